// Syncer between real server processes: A and B sync from each other and C from both; the status
// events on each (re)connect; a standby holds every event of a server that stops (SIGTERM).
import { afterEach, describe, expect, it } from 'vitest';
import { compareEventIds } from '../../src/common/event-id.ts';
import { eventForm } from '../helpers/vectors.ts';
import { userEvents } from '../syncer/helpers.ts';
import { cleanup } from './helpers.ts';
import {
  closeClients, eventsOf, freePort, idKeys, linesOf, peerOf, registerSessions, startSyncerServer, statusOf, untilSame,
  type SyncerProcess,
} from './syncer-helpers.ts';
import { until } from '../helpers/until.ts';

afterEach(async () => {
  await closeClients();
  await cleanup();
});

const address = (port: number): string => `tcp+sbs://127.0.0.1:${port}`;

/** The Syncer status events of `type` a server registered, their payloads in order. */
async function statusPayloads(server: SyncerProcess, type: string): Promise<unknown[]> {
  return (await statusOf(server.eventer, server.spec.serverId)).filter(([t]) => t === type).map(([, payload]) => payload);
}

describe('Syncer between server processes', () => {
  it('A and B sync from each other, C from both: each holds every event of A and B once, nothing of C goes anywhere', { timeout: 120_000 }, async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const [a, b] = await Promise.all([
      startSyncerServer({ serverId: 1, syncerPort: portA, peers: [{ server_id: 2, address: address(portB) }] }),
      startSyncerServer({ serverId: 2, syncerPort: portB, peers: [{ server_id: 1, address: address(portA) }] }),
    ]);
    const c = await startSyncerServer({ serverId: 3, peers: [peerOf(a), peerOf(b)] });
    const [lastA, lastB] = await Promise.all([
      registerSessions(a.eventer, 30, 10, userEvents),
      registerSessions(b.eventer, 30, 10, (s, n) => userEvents(s + 100, n)),
      registerSessions(c.eventer, 5, 10, userEvents),
    ]);
    // Every link synced (a peer that was not up yet is tried again after Hat's 10 s)...
    const linkSynced = (s: SyncerProcess, peer: number): Promise<boolean> =>
      statusPayloads(s, `event/syncer/client/${peer}/synced`).then((p) => p.at(-1) === true);
    for (const [server, peer] of [[a, 2], [b, 1], [c, 1], [c, 2]] as const) {
      await until(() => linkSynced(server, peer), 40_000, `${server.spec.serverId} synced from ${peer}`, 100);
    }
    // ...and each Syncer server lists its two clients, synced.
    const clientsOf = async (s: SyncerProcess): Promise<{ client_name: string; synced: boolean }[]> =>
      ((await statusPayloads(s, 'event/syncer/server')).at(-1) ?? []) as { client_name: string; synced: boolean }[];
    for (const [server, names] of [[a, ['2', '3']], [b, ['1', '3']]] as const) {
      await until(async () => (await clientsOf(server)).filter((x) => x.synced).length === 2, 30_000, `${server.spec.serverId} listing two synced clients`, 100);
      expect((await clientsOf(server)).map((x) => x.client_name).sort()).toEqual(names);
    }
    // Then nothing changes any more: each holds the same events of A and of B.
    const ofA = await untilSame([a, b, c], 1, 60_000, lastA);
    const ofB = await untilSame([a, b, c], 2, 60_000, lastB);
    for (const events of [ofA, ofB]) expect(new Set(idKeys(events)).size).toBe(events.length);
    for (const server of [a, b, c]) {
      expect((await eventsOf(server.eventer, 1)).map(eventForm)).toEqual(ofA.map(eventForm));
      expect((await eventsOf(server.eventer, 2)).map(eventForm)).toEqual(ofB.map(eventForm));
    }
    for (const server of [a, b]) expect(await eventsOf(server.eventer, 3)).toEqual([]);
    expect(ofA.filter((e) => e.type[0] === 'test')).toHaveLength(300);
    expect(ofB.filter((e) => e.type[0] === 'test')).toHaveLength(300);
  });

  it('status events: false then true on each (re)connect; the server lists its client as it joins and syncs', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const a = await startSyncerServer({ serverId: 1, syncerPort: port });
    const b = await startSyncerServer({ serverId: 2, peers: [{ server_id: 1, address: address(port) }] });
    const synced = 'event/syncer/client/1/synced';
    await until(async () => (await statusPayloads(b, synced)).length === 2, 30_000, 'B synced', 100);
    expect(await statusPayloads(b, synced)).toEqual([false, true]);
    const oneRun = [[], [{ client_name: '2', synced: false }], [{ client_name: '2', synced: true }]];
    await until(async () => (await statusPayloads(a, 'event/syncer/server')).length === 3, 30_000, 'A listing B synced', 100);
    expect(await statusPayloads(a, 'event/syncer/server')).toEqual(oneRun);

    await a.stop();
    const again = await startSyncerServer({ ...a.spec, dir: a.dir });
    // B tries again after Hat's 10 s.
    await until(async () => (await statusPayloads(b, synced)).length === 4, 40_000, 'B synced again', 100);
    expect(await statusPayloads(b, synced)).toEqual([false, true, false, true]);
    await until(async () => (await statusPayloads(again, 'event/syncer/server')).length === 6, 30_000, 'A listing B again', 100);
    expect(await statusPayloads(again, 'event/syncer/server')).toEqual([...oneRun, ...oneRun]);
    expect(linesOf(b.proc, 'connected to syncer peer')).toHaveLength(2);
  });

  it('on SIGTERM the standby holds every event, STOPPED included, by the time the server has exited', { timeout: 120_000 }, async () => {
    // A flushes rarely, so its last sessions are still unflushed when the stop begins; B makes
    // every register durable before it answers (flush_period 0).
    const a = await startSyncerServer({ serverId: 1, flushPeriod: 30 });
    const b = await startSyncerServer({ serverId: 2, peers: [peerOf(a)], flushPeriod: 0 });
    await b.proc.waitForLog((l) => l.msg === 'synced with syncer peer', 30_000);
    await registerSessions(a.eventer, 20, 10, userEvents);
    await a.stop();

    const held = await eventsOf(b.eventer, 1); // no waiting: it must be there already
    expect(held.at(-1)).toMatchObject({ type: ['event', 'engine'], payload: { type: 'json', data: 'STOPPED' } });
    const restarted = await startSyncerServer({ ...a.spec, dir: a.dir });
    const onA = (await eventsOf(restarted.eventer, 1)).filter((e) => compareEventIds(e.id, held.at(-1)!.id) <= 0);
    expect(held.map(eventForm)).toEqual(onA.map(eventForm));
    expect(held.filter((e) => e.type[0] === 'test')).toHaveLength(200);
  });
});
