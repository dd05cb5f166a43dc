// A Syncer server over a backend that does not persist. As Hat serves it (nothing is ever
// flushed) a peer gets nothing; through flushedOnRegister registration counts as the flush, so a
// peer gets what the backend holds (memory) as backlog and every accepted session live.
import { describe, expect, it } from 'vitest';
import { compareEventIds } from '../../src/common/event-id.ts';
import type { Node } from './helpers.ts';
import { flushedEvents, forms, peerOf, startNode, until, untilCaughtUp, untilHolds, userEvents } from './helpers.ts';

const register = async (node: Node, from: number, to: number): Promise<void> => {
  for (let s = from; s < to; s++) await node.engine.register({ type: 'module', id: 1 }, userEvents(s, 3));
};

describe('a Syncer server over a non-persisting backend', () => {
  it('memory: what it holds as backlog, then live', async () => {
    const a = await startNode({ serverId: 1, backendKind: 'memory' });
    await register(a, 0, 10);
    const b = await startNode({ serverId: 2, peers: [peerOf(a)] });
    await untilCaughtUp(a, b);
    await register(a, 10, 15);
    const held = (await a.backend.query({ serverId: 1, order: 'ascending' })).sort((x, y) => compareEventIds(x.id, y.id));
    await untilHolds(b.backend, held.at(-1)!.id);
    await b.backend.flush();
    expect(forms(await flushedEvents(b.backend, 1))).toEqual(forms(held));
  });

  it('dummy: nothing held, so no backlog; live sessions still reach the peer', async () => {
    const a = await startNode({ serverId: 1, backendKind: 'dummy' });
    await register(a, 0, 3);
    const b = await startNode({ serverId: 2, peers: [peerOf(a)] });
    await until(() => b.client!.peers[0]?.state === 'synced');
    await until(() => a.server.clients[0]?.synced === true);
    const [live] = await a.engine.register({ type: 'module', id: 1 }, userEvents(9, 2));
    await untilHolds(b.backend, live!.id);
    await b.backend.flush();
    // the sessions A accepted after B's request: its status events about B, then the live one
    const got = await flushedEvents(b.backend, 1);
    expect(got.map((e) => e.type.join('/'))).toEqual(['event/syncer/server', 'event/syncer/server', 'test/s2/0', 'test/s2/1']);
  });

  it('memory seen as Hat sees it: an empty backlog and nothing live', async () => {
    const a = await startNode({ serverId: 1, backendKind: 'memory', hatView: true });
    await register(a, 0, 3);
    const b = await startNode({ serverId: 2, peers: [peerOf(a)] });
    await until(() => b.client!.peers[0]?.state === 'synced');
    await register(a, 3, 5);
    await new Promise((r) => setTimeout(r, 300));
    expect(await b.backend.getLastEventId(1)).toEqual({ server: 1, session: 0, instance: 0 });
  });

  it('memory as the syncing side: it asks from what it holds', async () => {
    const a = await startNode({ serverId: 1 });
    await register(a, 0, 5);
    await a.backend.flush();
    const b = await startNode({ serverId: 2, backendKind: 'memory', peers: [peerOf(a)] });
    await untilCaughtUp(a, b);
    const onB = (await b.backend.query({ serverId: 1, order: 'ascending' })).sort((x, y) => compareEventIds(x.id, y.id));
    expect(forms(onB)).toEqual(forms(await flushedEvents(a.backend, 1)));
  });
});
