// connectSyncer as a catch-up subscription: from any position, exactly the events after it (the
// rest of a session first), then live ones; continuing from `lastEventId` loses and repeats nothing.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/common/types.ts';
import { connectSyncer, type SyncerStream } from '../../src/syncer/stream.ts';
import { flushedEvents, forms, startNode, until, userEvents, type Node } from './helpers.ts';

async function nodeWithSessions(sessions: number): Promise<Node> {
  const a = await startNode({ serverId: 1 });
  for (let session = 0; session < sessions; session++) await a.engine.register({ type: 'module', id: 1 }, userEvents(session, 4));
  await a.backend.flush();
  return a;
}

/** Takes sessions into `into` until the stream ends. */
function take(stream: SyncerStream, into: Event[][]): Promise<void> {
  return (async () => {
    for await (const events of stream) into.push(events);
  })();
}

describe('connectSyncer', () => {
  it('from a position in the middle of a session: the rest of it, later sessions, synced, then live', async () => {
    const a = await nodeWithSessions(30);
    const held = await flushedEvents(a.backend, 1);
    const position = held.findIndex((e) => e.id.session === held[40]!.id.session) + 1; // 2nd event of a session
    const from = held[position]!.id;
    const stream = await connectSyncer(a.address, { clientName: 'archiver', lastEventId: from });
    const sessions: Event[][] = [];
    const taking = take(stream, sessions);
    await stream.synced;
    // everything after the position, one list per session, the first the tail of its session
    const backlog = sessions.flat();
    expect(forms(backlog)).toEqual(forms(held.slice(position + 1)));
    expect(sessions[0]!.map((e) => e.id.session)).toEqual(sessions[0]!.map(() => from.session));
    expect(sessions[0]![0]!.id.instance).toBe(from.instance + 1);
    for (const session of sessions) expect(new Set(session.map((e) => e.id.session)).size).toBe(1);

    const [live] = await a.engine.register({ type: 'module', id: 1 }, userEvents(99, 3));
    await until(() => sessions.flat().some((e) => e.id.session === live!.id.session));
    await a.backend.flush();
    const all = await flushedEvents(a.backend, 1, from);
    await until(() => sessions.flat().length === all.length);
    expect(forms(sessions.flat())).toEqual(forms(all)); // including the live session and A's status events about us
    expect(stream.lastEventId).toEqual(all.at(-1)!.id);
    await stream.close();
    await taking;
  });

  it('continuing from lastEventId after a close misses and repeats nothing', async () => {
    const a = await nodeWithSessions(10);
    const first: Event[][] = [];
    const s1 = await connectSyncer(a.address, { clientName: 'c', lastEventId: { server: 1, session: 0, instance: 0 } });
    let n = 0;
    for await (const events of s1) {
      first.push(events);
      if (++n === 5) break; // leaving the loop closes the stream
    }
    expect(s1.isOpen).toBe(false);
    for (let session = 10; session < 15; session++) await a.engine.register({ type: 'module', id: 1 }, userEvents(session, 2));
    await a.backend.flush();
    const s2 = await connectSyncer(a.address, { clientName: 'c', lastEventId: s1.lastEventId });
    const second: Event[][] = [];
    const taking = take(s2, second);
    await s2.synced;
    expect(forms([...first, ...second].flat())).toEqual(forms(await flushedEvents(a.backend, 1, { server: 1, session: 0, instance: 0 })));
    await s2.close();
    await taking;
  });

  it('asks for one server\'s events: another server id streams only that server\'s', async () => {
    const a = await nodeWithSessions(3);
    // A holds events of server 7 too (as if synced from it)
    await a.backend.register([{ id: { server: 7, session: 3, instance: 9 }, type: ['x'], timestamp: { s: 1, us: 0 }, sourceTimestamp: null, payload: null }]);
    await a.backend.flush();
    const stream = await connectSyncer(a.address, { clientName: 'c', lastEventId: { server: 7, session: 0, instance: 0 } });
    const sessions: Event[][] = [];
    const taking = take(stream, sessions);
    await stream.synced;
    expect(sessions.flat().map((e) => e.id)).toEqual([{ server: 7, session: 3, instance: 9 }]);
    await stream.close();
    await taking;
  });

  it('a stream that ends before synced rejects `synced`', async () => {
    const a = await nodeWithSessions(1);
    const stream = await connectSyncer(a.address, { clientName: 'c', lastEventId: { server: 1, session: 0, instance: 0 } });
    await stream.close();
    await expect(stream.synced).rejects.toThrow();
    await expect(connectSyncer(a.address, { clientName: 'c', lastEventId: { server: 1, session: -1, instance: 0 } })).rejects.toThrow(/session/);
  });
});
