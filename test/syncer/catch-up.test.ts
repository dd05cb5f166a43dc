// A server catches up on a peer's backlog, then follows it live: real LMDB files, real engines,
// Syncer server and client over TCP on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { createSyncerServer } from '../../src/syncer/server.ts';
import { counting, flushedEvents, forms, peerOf, captureLogger, startNode, until, untilCaughtUp, untilHolds, userEvents, wrapBackend } from './helpers.ts';

describe('catch-up', () => {
  it('B, started after A registered 10k events in many sessions, ends up with exactly A\'s events', async () => {
    const a = await startNode({ serverId: 1 });
    for (let session = 0; session < 400; session++) {
      await a.engine.register({ type: 'module', id: 1 }, userEvents(session, 25));
    }
    await a.backend.flush();
    const registered = await flushedEvents(a.backend, 1);
    expect(registered.length).toBeGreaterThan(10_000);

    const b = await startNode({ serverId: 2, peers: [peerOf(a)] });
    await untilHolds(b.backend, registered.at(-1)!.id, 30_000);
    await untilCaughtUp(a, b); // and A's status events about B's connection, live
    await b.backend.flush();
    const onA = await flushedEvents(a.backend, 1);
    const onB = await flushedEvents(b.backend, 1);
    expect(onB.length).toBe(onA.length);
    expect(forms(onB)).toEqual(forms(onA));
    // B's own events stay B's: none of them went to A.
    expect(await flushedEvents(a.backend, 2)).toEqual([]);
  });

  it('live sessions flushed while the backlog is read: queued, or past the queue read again; none lost, none twice', async () => {
    const a = await startNode({ serverId: 1 });
    for (let session = 0; session < 40; session++) await a.engine.register({ type: 'module', id: 1 }, userEvents(session, 5));
    await a.backend.flush();
    // A second Syncer server on A's backend whose backlog read takes 10 ms a session.
    const slowRead = wrapBackend(a.backend, {
      async *queryFlushed(after) {
        for await (const session of a.backend.queryFlushed(after)) {
          await new Promise((r) => setTimeout(r, 10));
          yield session;
        }
      },
    });
    const log = captureLogger('hat.event');
    const server = await createSyncerServer('tcp+sbs://127.0.0.1:0', slowRead, a.engine, { logger: log, maxQueuedLiveEvents: 12 });
    const received = new Map<number, number>();
    const b = await startNode({ serverId: 2, peers: [{ serverId: 1, address: server.addresses[0]! }], clientBackend: (x) => counting(x, received) });
    for (let session = 40; session < 50; session++) { // during B's backlog, more than the queue holds
      await a.engine.register({ type: 'module', id: 1 }, userEvents(session, 3));
      await a.backend.flush();
    }
    await until(() => b.client!.peers[0]?.state === 'synced');
    await a.backend.flush();
    await untilHolds(b.backend, await a.backend.getLastEventId(1));
    await b.backend.flush();
    const onA = await flushedEvents(a.backend, 1);
    expect(forms(await flushedEvents(b.backend, 1))).toEqual(forms(onA));
    expect(received.get(1)).toBe(onA.length);
    expect(log.lines.some((e) => e.message.startsWith('live events during the backlog exceed the queue'))).toBe(true);
    await b.close();
    await server.close();
  });

  it('a live event on A reaches B within two of A\'s flush periods', async () => {
    const period = 0.5;
    const a = await startNode({ serverId: 1, flushPeriod: period });
    const b = await startNode({ serverId: 2, peers: [peerOf(a)] });
    await untilCaughtUp(a, b);
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const [event] = await a.engine.register({ type: 'module', id: 1 }, userEvents(i, 1));
      await untilHolds(b.backend, event!.id, 5000);
      expect(Date.now() - started).toBeLessThan(2 * period * 1000);
    }
  });
});
