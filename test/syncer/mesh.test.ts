// Loops and echoes: A syncs from B and B from A, C from both. Each ends up with every event of
// A and of B, each received exactly once over the wire, and nobody gets its own events back.
import { describe, expect, it } from 'vitest';
import { counting, flushedEvents, forms, peerOf, SettablePeers, startNode, untilCaughtUp, userEvents } from './helpers.ts';

describe('A <-> B, and C from both', () => {
  it('no loops, no duplicates, each holds everything', async () => {
    const received = new Map<number, Map<number, number>>([[1, new Map()], [2, new Map()], [3, new Map()]]);
    const discovery = new Map([[1, new SettablePeers()], [2, new SettablePeers()], [3, new SettablePeers()]]);
    const [a, b, c] = await Promise.all([1, 2, 3].map((serverId) => startNode({
      serverId, discovery: discovery.get(serverId)!, clientBackend: (backend) => counting(backend, received.get(serverId)!),
    })));
    discovery.get(1)!.set([peerOf(b!)]);
    discovery.get(2)!.set([peerOf(a!)]);
    discovery.get(3)!.set([peerOf(a!), peerOf(b!)]);

    // Both register while the links come up and after.
    await Promise.all([a!, b!].map(async (node) => {
      for (let session = 0; session < 40; session++) {
        await node.engine.register({ type: 'module', id: 1 }, userEvents(session, 5));
        if (session % 10 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    }));

    // Settled: every link synced (status events included), then everything flushed everywhere.
    for (const [from, to] of [[a, b], [b, a], [a, c], [b, c]] as const) await untilCaughtUp(from!, to!);
    for (const [from, to] of [[a, b], [b, a], [a, c], [b, c]] as const) await untilCaughtUp(from!, to!); // all settled
    for (const node of [a, b, c]) await node!.backend.flush();

    for (const server of [1, 2]) {
      const own = await flushedEvents([a, b][server - 1]!.backend, server);
      expect(own.length).toBeGreaterThan(200);
      for (const node of [a, b, c]) expect(forms(await flushedEvents(node!.backend, server)), `${server} on ${node!.serverId}`).toEqual(forms(own));
    }
    // C's events stay on C: nobody syncs from it.
    expect(await flushedEvents(a!.backend, 3)).toEqual([]);
    expect(await flushedEvents(b!.backend, 3)).toEqual([]);
    // Over the wire: each event of the other servers exactly once, never one's own.
    const heldBy = async (node: typeof a, server: number): Promise<number> => (await flushedEvents(node!.backend, server)).length;
    expect([...received.get(1)!]).toEqual([[2, await heldBy(a, 2)]]);
    expect([...received.get(2)!]).toEqual([[1, await heldBy(b, 1)]]);
    expect(new Map([...received.get(3)!].sort())).toEqual(new Map([[1, await heldBy(c, 1)], [2, await heldBy(c, 2)]]));
  });
});
