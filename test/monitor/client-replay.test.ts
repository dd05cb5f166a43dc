// Our Client and Component against the recorded server side: a raw listener plays the reference
// monitor server's bytes, and what our client sends must be the reference client's bytes. The
// recordings of hat-event 0.8.0 open with two identical MsgClient ([Q2]); ours sends it once, so
// there the duplicate is left out and the later frames' ids are one lower (renumbered); nothing
// else differs.
import { describe, expect, it } from 'vitest';
import { connectMonitorClient, type MonitorClient } from '../../src/monitor/client.ts';
import { createMonitorComponent, type MonitorComponent } from '../../src/monitor/component.ts';
import type { JsonValue } from '../../src/common/types.ts';
import { session, type Session } from '../helpers/monitor-vectors.ts';
import { rawListen, renumbered, settle } from './replay-helpers.ts';
import { RunLog } from './helpers.ts';

interface Script {
  /** Indices (among the client frames) of recorded frames our client does not send. */
  skip?: number[];
  /** What the application does right before the client frame with that index is due. */
  actions?: Record<number, () => void>;
  /** The recording ends with the client closing (else with it killed: nothing more is expected). */
  clientCloses: boolean;
}

async function replayServerSide(s: Session, connectOurs: (address: string) => Promise<void>, script: Script): Promise<{ sent: string[]; expected: string[] }> {
  const listener = await rawListen();
  await connectOurs(listener.address);
  const peer = await listener.accepted;
  const clientFrames = s.frames.filter((f) => f.direction === 'client->server');
  const kept = clientFrames.map((f, i) => ({ f, i })).filter(({ i }) => !(script.skip ?? []).includes(i));
  const renumber = (script.skip ?? []).length > 0;
  const expected = kept.map(({ f }, n) => (renumber ? renumbered(f.hex, n + 1) : f.hex));
  const clientEnd = s.eof.find(([, d]) => d === 'client->server')![0];
  const sentBefore = (t: number): number => kept.filter(({ f }) => f.t < t).length;

  for (const f of s.frames) {
    const index = clientFrames.indexOf(f);
    if (index >= 0) {
      const action = script.actions?.[index];
      if (action !== undefined) {
        await peer.waitFor(sentBefore(f.t), `client frames before ${index}`);
        action();
      }
      continue;
    }
    if (script.clientCloses && f.t > clientEnd) continue; // the recorded client had already gone
    await peer.waitFor(sentBefore(f.t), `client frames before server frame ${f.id}`);
    peer.socket.write(Buffer.from(f.hex, 'hex'));
  }
  await peer.waitFor(expected.length, 'all client frames');
  if (script.clientCloses) await peer.ended;
  else await settle(200); // nothing more may come
  const sent = [...peer.frames];
  peer.socket.destroy();
  await listener.close();
  return { sent, expected };
}

const recordedData = (s: Session): JsonValue => JSON.parse((s.frames[0]!.decoded as { data: string }).data) as JsonValue;

describe('our client and component replay the reference client', () => {
  it('client_component_lifecycle: set_ready, grant, echo, release, second token, MsgClose: the same 8 frames', async () => {
    const s = session('client_component_lifecycle');
    const log = new RunLog();
    let client!: MonitorClient;
    let component!: MonitorComponent;
    const { sent, expected } = await replayServerSide(s, async (address) => {
      client = await connectMonitorClient({ name: 'comp-č', group: 'grp', monitor_address: address }, { data: { label: 'žaba 😀', n: 1, f: 1.5 } });
      component = createMonitorComponent(client, log.run('c'));
    }, {
      clientCloses: true,
      actions: { 1: () => component.setReady(true), 3: () => component.setReady(false), 5: () => component.setReady(true) },
    });
    expect(sent).toEqual(expected);
    expect(log.runs.map((r) => r.token)).toEqual([1, 2]);
    await component.closed;
    expect(component.failure?.message).toMatch(/MsgClose/);
    expect(client.failure?.message).toMatch(/MsgClose/);
    expect(component.ready).toBe(true); // [Q1]: readable
  });

  it('event_server_1: ready from the first message, blessed, released on close: the recorded frames without the duplicate', async () => {
    const s = session('event_server_1');
    const log = new RunLog();
    let client!: MonitorClient;
    const { sent, expected } = await replayServerSide(s, async (address) => {
      client = await connectMonitorClient({ name: 'event-1', group: 'event', monitor_address: address }, { data: recordedData(s), ready: true });
      createMonitorComponent(client, log.run('c'));
    }, { skip: [1], clientCloses: true, actions: { 3: () => void client.close() } });
    expect(sent).toEqual(expected);
    expect(log.runs.map((r) => r.token)).toEqual([1]);
    expect(client.failure).toBeUndefined();
  });

  it('event_server_2_takes_over: standby, then blessed with token 2 when event-1 leaves', async () => {
    const s = session('event_server_2_takes_over');
    const log = new RunLog();
    let client!: MonitorClient;
    const { sent, expected } = await replayServerSide(s, async (address) => {
      client = await connectMonitorClient({ name: 'event-2', group: 'event', monitor_address: address }, { data: recordedData(s), ready: true });
      createMonitorComponent(client, log.run('c'));
    }, { skip: [1], clientCloses: false });
    expect(sent).toEqual(expected);
    expect(log.runs.map((r) => r.token)).toEqual([2]);
    expect(client.components.map((c) => c.cid)).toEqual([1, 2, 3]);
    await client.close();
  });
});
