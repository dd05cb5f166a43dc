// Syncer between real server processes on real LMDB files: B, started after A registered 10k
// events in many sessions, catches up to exactly A's events and then gets live ones within two of
// A's flush periods; B SIGKILLed mid-backlog and started again on its file ends with no gap and
// takes over the wire only what it did not hold.
import { afterEach, describe, expect, it } from 'vitest';
import { compareEventIds, eventIdKey } from '../../src/common/event-id.ts';
import { connectSyncer } from '../../src/syncer/stream.ts';
import type { RegisterEvent } from '../../src/common/types.ts';
import { eventForm } from '../helpers/vectors.ts';
import { startProxy, userEvents } from '../syncer/helpers.ts';
import { cleanup } from './helpers.ts';
import {
  closeClients, connect, eventsOf, linesOf, parseId, peerOf, registerSessions, startSyncerServer, untilSame,
} from './syncer-helpers.ts';

afterEach(async () => {
  await closeClients();
  await cleanup();
});

describe('Syncer between server processes', () => {
  it('B catches up to exactly the 10k events A registered while B was down, then gets live events within two flush periods', { timeout: 120_000 }, async () => {
    const flushPeriod = 1; // A's, Hat's default
    const a = await startSyncerServer({ serverId: 1, flushPeriod });
    const last = await registerSessions(a.eventer, 200, 50, userEvents);

    const b = await startSyncerServer({ serverId: 2, peers: [peerOf(a)], flushPeriod: 0.05 });
    const onA = await untilSame([a, b], 1, 60_000, last);
    expect(onA.filter((e) => e.type[0] === 'test')).toHaveLength(10_000);
    expect((await eventsOf(b.eventer, 1)).map(eventForm)).toEqual(onA.map(eventForm));

    // Live: what B holds of A, read as it arrives (B's own Syncer server streams A's events it stored).
    const held = (await eventsOf(b.eventer, 1)).at(-1)!.id;
    const stream = await connectSyncer(b.syncer, { clientName: 'watcher', lastEventId: held });
    const sessions = stream[Symbol.asyncIterator]();
    const writer = await connect(a.eventer);
    const arrivals: number[] = [];
    for (let round = 0; round < 3; round++) {
      const event: RegisterEvent = { type: ['live', String(round)], sourceTimestamp: null, payload: { type: 'json', data: round } };
      const t0 = performance.now();
      const [registered] = await writer.registerWithResponse([event]);
      for (;;) {
        const next = await sessions.next();
        if (next.done) throw new Error(`the stream from B ended: ${String(stream.failure)}`);
        if (next.value.some((e) => eventIdKey(e.id) === eventIdKey(registered!.id))) break;
      }
      arrivals.push(performance.now() - t0);
    }
    await stream.close();
    for (const ms of arrivals) expect(ms).toBeLessThan(2 * flushPeriod * 1000);
  });

  it('B SIGKILLed mid-backlog and started again on its file: no gap, and nothing it held comes again', { timeout: 180_000 }, async () => {
    const a = await startSyncerServer({ serverId: 1, flushPeriod: 0.1 });
    const bulk = (session: number, count: number): RegisterEvent[] => Array.from({ length: count }, (_, i) => ({
      type: ['bulk', String(session % 13), String(i)],
      sourceTimestamp: { s: 1_700_000_000 + session, us: i },
      payload: { type: 'binary', data: new Uint8Array(200).fill((session + i) & 255) },
    }));
    const last = await registerSessions(a.eventer, 400, 50, bulk);

    // The first B reads A through a proxy that stops passing A's bytes after 2 MB of the ~5 MB
    // backlog: once B has flushed what came, it is killed with the rest of the backlog still due.
    const proxy = await startProxy(a.syncer, { stallAfter: 2_000_000 });
    const first = await startSyncerServer({ serverId: 2, peers: [{ server_id: 1, address: proxy.address }], flushPeriod: 0.05, debug: ['hat.event.backend'] });
    await first.proc.waitForLog((l) => l.msg === 'flushed' && Number(l['events']) > 1000, 60_000);
    first.proc.child.kill('SIGKILL');
    expect((await first.proc.exited).signal).toBe('SIGKILL');
    expect(linesOf(first.proc, 'synced with syncer peer')).toEqual([]);

    const before = await eventsOf(a.eventer, 1); // A is quiet now: B's second connection is the next change
    const second = await startSyncerServer({ ...first.spec, peers: [peerOf(a)], dir: first.dir });
    const onA = await untilSame([a, second], 1, 90_000, last);
    expect((await eventsOf(second.eventer, 1)).map(eventForm)).toEqual(onA.map(eventForm));

    // It asked from what it had made durable: somewhere inside the backlog...
    const [connected] = linesOf(second.proc, 'connected to syncer peer');
    const resumedAfter = parseId(connected!['last_event_id'] as string);
    expect(compareEventIds(resumedAfter, { server: 1, session: 0, instance: 0 })).toBeGreaterThan(0);
    expect(compareEventIds(resumedAfter, last)).toBeLessThan(0);
    // ...and its backlog held what A had after that id (plus at most what A flushed meanwhile), nothing earlier.
    const [synced] = linesOf(second.proc, 'synced with syncer peer');
    const after = (events: typeof onA): number => events.filter((e) => compareEventIds(e.id, resumedAfter) > 0).length;
    expect(synced!['backlog_events']).toBeGreaterThanOrEqual(after(before));
    expect(synced!['backlog_events']).toBeLessThanOrEqual(after(onA));
  });
});
