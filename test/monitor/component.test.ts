// The Component state machine (docs/protocol.md, "The Component") with real monitor connections: against the
// stand-in for the blessing algorithms (standby, failover, rank pre-emption, BLESS_ALL), and
// against a scripted server for what the stand-in never does (a token that changes under a run,
// the own entry vanishing).
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/chatter/framing.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import { readHatMsg } from '../../src/sbs/hat-messages.ts';
import {
  MONITOR_MODULE, MonitorMsg, readMsgClient, writeMsgServer, type ComponentInfoRecord, type SbsInteger,
} from '../../src/sbs/monitor-messages.ts';
import { connectMonitorClient } from '../../src/monitor/client.ts';
import { createMonitorComponent, type ComponentState } from '../../src/monitor/component.ts';
import { blessingView, monitorsAfterEach, RunLog, until, type Member } from './helpers.ts';
import { rawListen, type FrameCollector } from './replay-helpers.ts';
import type { MonitorStandIn, StandInOptions } from '../helpers/monitor-stand-in/monitor-server.ts';

const setup = monitorsAfterEach();

/** A stand-in with member 'a' of group 'g' already running (its run stops in `cleanupMs`). */
async function activeA(cleanupMs = 20, opts: StandInOptions = {}): Promise<{ monitor: MonitorStandIn; log: RunLog; a: Member }> {
  const monitor = await setup.standIn(opts);
  const log = new RunLog();
  const a = await setup.member(monitor.address, 'a', 'g', log.run('a', cleanupMs));
  await until(() => a.component.state === 'running');
  return { monitor, log, a };
}

describe('Component with BLESS_ONE', () => {
  it('runs the first ready member; the other stands by and takes over only after the release', async () => {
    const { monitor, log, a } = await activeA(150);
    const b = await setup.member(monitor.address, 'b', 'g', log.run('b'));
    await until(() => b.client.info !== null);
    expect(b.component.state).toBe('waiting');
    expect(a.component.token).toBe(1);

    a.component.setReady(false); // the old one cleans up for 150 ms while still holding its token
    await until(() => a.component.state === 'stopping');
    expect(a.client.blessingRes).toEqual({ token: 1, ready: false });
    await until(() => b.component.state === 'running');
    expect(a.component.state).toBe('idle');
    expect(log.maxRunning).toBe(1);
    expect(log.runs.map((r) => [r.name, r.token])).toEqual([['a', 1], ['b', 2]]);
  });

  it('hands over when the active member disconnects, as when its process is killed', async () => {
    const { monitor, log, a } = await activeA();
    const b = await setup.member(monitor.address, 'b', 'g', log.run('b'));
    await until(() => b.component.state === 'waiting');
    monitor.drop(Number(a.client.cid));
    await until(() => b.component.state === 'running');
    await a.component.closed;
    expect(a.component.failure?.message).toMatch(/monitor connection lost/);
    expect(log.runs.map((r) => [r.name, r.token, r.stopped])).toEqual([['a', 1, true], ['b', 2, false]]);
  });

  it('a better rank pre-empts: revoke, release, then grant, never two at once (the BLESS_ONE states)', async () => {
    const monitor = await setup.standIn({ ranks: [{ name: 'b', group: 'g', rank: 0 }] });
    const log = new RunLog();
    const observer = await setup.client(monitor.address, 'observer', 'other');
    const seen: string[] = [];
    observer.onChange(() => {
      const view = blessingView(observer, 'g').join(' ');
      if (view !== '' && view !== seen.at(-1)) seen.push(view);
    });
    const a = await setup.member(monitor.address, 'a', 'g', log.run('a', 100));
    await until(() => seen.at(-1) === 'a(1,1,1)');
    const b = await setup.member(monitor.address, 'b', 'g', log.run('b'));
    await until(() => b.component.state === 'running');
    await until(() => seen.at(-1) === 'a(1,-,-) b(0,2,2)');
    expect(seen).toEqual(['a(1,1,-)', 'a(1,1,1)', 'a(1,-,1) b(0,-,-)', 'a(1,-,-) b(0,2,-)', 'a(1,-,-) b(0,2,2)']);
    expect(a.component.state).toBe('waiting'); // standby, still ready
    expect(log.maxRunning).toBe(1);

    monitor.setRank(Number(a.client.cid), -1); // a rank change while connected, as the UI makes
    await until(() => a.component.state === 'running');
    expect(b.component.state).toBe('waiting');
    expect(log.runs.map((r) => [r.name, r.token])).toEqual([['a', 1], ['b', 2], ['a', 3]]);
    expect(log.maxRunning).toBe(1);
  });

  it('a member closed on its own releases as not ready, so the group moves on while its client stays', async () => {
    const { monitor, log, a } = await activeA();
    const b = await setup.member(monitor.address, 'b', 'g', log.run('b'));
    await a.component.close();
    expect(a.component.failure).toBeUndefined();
    expect(a.client.blessingRes).toEqual({ token: null, ready: false });
    await until(() => b.component.state === 'running');
    expect(a.client.isOpen).toBe(true);
  });

  it('[Q3] a run that ends by itself gives the blessing up as not ready and closes the component', async () => {
    const monitor = await setup.standIn();
    const log = new RunLog();
    const a = await setup.member(monitor.address, 'a', 'g', async () => {
      throw new Error('engine failed to start');
    });
    const b = await setup.member(monitor.address, 'b', 'g', log.run('b'));
    await a.component.closed;
    expect(a.component.failure?.message).toBe('engine failed to start');
    expect(a.client.blessingRes).toEqual({ token: null, ready: false });
    await until(() => b.component.state === 'running');

    const c = await setup.member(monitor.address, 'c', 'h', async () => undefined);
    await c.component.closed;
    expect(c.component.failure?.message).toMatch(/returned while blessed/);
  });
});

describe('Component with BLESS_ALL', () => {
  it('runs every ready member at once, each with its own token; not ready stops only that one', async () => {
    const monitor = await setup.standIn({ defaultAlgorithm: 'BLESS_ALL' });
    const log = new RunLog();
    const members: Member[] = [];
    for (const name of ['a', 'b', 'c']) members.push(await setup.member(monitor.address, name, 'g', log.run(name)));
    await until(() => members.every((m) => m.component.state === 'running'));
    expect(members.map((m) => m.component.token)).toEqual([1, 2, 3]);
    members[1]!.component.setReady(false);
    await until(() => members[1]!.component.state === 'idle');
    expect(log.active()).toEqual(['a', 'c']);
    members[1]!.component.setReady(true);
    await until(() => members[1]!.component.state === 'running');
    expect(members[1]!.component.token).toBe(4);
  });
});

describe('Component and the monitor going away', () => {
  it('MsgClose (orderly monitor shutdown): stops the run, releases keeping ready, then the client closes', async () => {
    const { monitor, log, a } = await activeA(100);
    const started = Date.now();
    await monitor.close();
    expect(Date.now() - started).toBeLessThan(2000); // the client closed on its own, well within the grace
    expect(log.runs[0]!.stopped).toBe(true);
    expect(a.client.blessingRes).toEqual({ token: null, ready: true });
    expect(a.component.failure?.message).toMatch(/MsgClose/);
    expect(a.client.isOpen).toBe(false);
  });

  it('monitor crash: the run is stopped at once and both close with the reason', async () => {
    const { monitor, log, a } = await activeA();
    await monitor.kill();
    await a.component.closed;
    expect(log.runs[0]!.stopped).toBe(true);
    expect(a.client.failure?.message).toMatch(/monitor connection lost/);
    expect(a.component.failure?.message).toMatch(/monitor connection lost/);
  });

  it('a component made on a closed client is closed at once', async () => {
    const monitor = await setup.standIn();
    const client = await setup.client(monitor.address, 'a', 'g');
    await client.close();
    const component = createMonitorComponent(client, async () => undefined);
    await component.closed;
    expect(component.failure?.message).toMatch(/closed/);
  });
});

/** A monitor server played by the test: it sends the MsgServer it is told to. */
async function scriptedMonitor(): Promise<{
  address: string;
  peer: () => Promise<FrameCollector>;
  send(components: Partial<ComponentInfoRecord>[]): void;
  blessingResponses(): string[];
  close(): Promise<void>;
}> {
  const listener = await rawListen();
  let peer: FrameCollector | null = null;
  let id = 0;
  return {
    address: listener.address,
    peer: async () => (peer = await listener.accepted),
    send(components) {
      const msg = {
        cid: 0, mid: 0,
        components: components.map((c) => ({
          cid: 0, mid: 0, name: 'a', group: 'g', data: 'null', rank: 1,
          blessingReq: { token: null, timestamp: null }, blessingRes: { token: null, ready: true }, ...c,
        })),
      };
      id++;
      peer!.socket.write(encodeFrame({ id, first: id, owner: true, token: true, last: true }, MONITOR_MODULE, MonitorMsg.server, (w) => writeMsgServer(w, msg)));
    },
    blessingResponses: () => peer!.frames.map((f) => {
      const bytes = Buffer.from(f, 'hex');
      const res = readMsgClient(new SbsReader(readHatMsg(new SbsReader(bytes, 1 + bytes[0]!)).data)).blessingRes;
      return `${res.token ?? '-'}/${res.ready}`;
    }),
    async close() {
      peer?.socket.destroy();
      await listener.close();
    },
  };
}

const granted = (token: SbsInteger): Partial<ComponentInfoRecord> => ({ blessingReq: { token, timestamp: 1700000000.5 } });

describe('Component against a scripted monitor', () => {
  it('a token that changes under a run counts as a loss: stop, release, run again with the new one', async () => {
    const script = await scriptedMonitor();
    try {
      const client = await connectMonitorClient({ name: 'a', group: 'g', monitor_address: script.address }, { ready: true });
      const log = new RunLog();
      const states: ComponentState[] = [];
      const component = createMonitorComponent(client, log.run('a', 50));
      component.onStateChange((s) => states.push(s));
      await script.peer();
      script.send([granted(1)]);
      await until(() => component.state === 'running');
      script.send([granted(2)]);
      await until(() => component.token === 2 && component.state === 'running');
      expect(log.runs.map((r) => [r.token, r.stopped])).toEqual([[1, true], [2, false]]);
      expect(log.maxRunning).toBe(1);
      expect(states).toEqual(['running', 'stopping', 'waiting', 'running']);
      await until(() => script.blessingResponses().length === 4);
      expect(script.blessingResponses()).toEqual(['-/true', '1/true', '-/true', '2/true']);

      script.send([{ cid: 7 }]); // our own entry is gone from the list
      await until(() => component.state === 'waiting');
      expect(client.info).toBeNull();
      await client.close();
      expect(script.blessingResponses()).toEqual(['-/true', '1/true', '-/true', '2/true', '-/true']);
    } finally {
      await script.close();
    }
  });

  it('going not ready while running says so at once with the token still held, and releases after the stop', async () => {
    const script = await scriptedMonitor();
    try {
      const client = await connectMonitorClient({ name: 'a', group: 'g', monitor_address: script.address });
      const component = createMonitorComponent(client, new RunLog().run('a', 100));
      await script.peer();
      expect(component.state).toBe('idle');
      component.setReady(true);
      script.send([granted(9)]);
      await until(() => component.state === 'running');
      component.setReady(false);
      await until(() => script.blessingResponses().length === 4);
      expect(component.state).toBe('stopping');
      await until(() => component.state === 'idle');
      await until(() => script.blessingResponses().length === 5);
      expect(script.blessingResponses()).toEqual(['-/false', '-/true', '9/true', '9/false', '-/false']);
      await client.close();
    } finally {
      await script.close();
    }
  });
});
