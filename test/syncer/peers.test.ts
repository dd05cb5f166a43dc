// Peers that are down, refuse, or die mid-backlog are retried after the delay without holding up
// the other peers, and a connection lost mid-backlog resumes without gap or duplicate. The peer
// list follows its discovery.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { staticPeers } from '../../src/syncer/peers.ts';
import { freePort } from '../helpers/event-server-member.ts';
import {
  counting, flushedEvents, forms, peerOf, SettablePeers, startNode, startProxy, until, untilCaughtUp, userEvents, type Node,
} from './helpers.ts';

async function withSessions(serverId: number, sessions: number): Promise<Node> {
  const node = await startNode({ serverId });
  for (let s = 0; s < sessions; s++) await node.engine.register({ type: 'module', id: 1 }, userEvents(s, 10));
  await node.backend.flush();
  return node;
}

/** A TCP server that accepts and at once closes every connection. */
async function refusing(): Promise<{ address: string; accepted: number; close(): Promise<void> }> {
  const state = { address: '', accepted: 0, close: () => new Promise<void>((r) => server.close(() => r())) };
  const server = net.createServer((socket) => {
    state.accepted += 1;
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.address = `tcp+sbs://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return state;
}

/** A port nothing listens on. */
const deadAddress = async (): Promise<string> => `tcp+sbs://127.0.0.1:${await freePort()}`;

const attempts = (node: Node, serverId: number): number =>
  node.log.lines.filter((e) => e.message === 'cannot connect to syncer peer; retrying' && e.fields['server_id'] === serverId).length;

describe('syncer peers', () => {
  it('a peer that is down and one that refuses are retried while another syncs', async () => {
    const a = await withSessions(1, 20);
    const refuser = await refusing();
    try {
      const b = await startNode({
        serverId: 2,
        peers: [{ serverId: 7, address: await deadAddress() }, { serverId: 8, address: refuser.address }, peerOf(a)],
      });
      await untilCaughtUp(a, b);
      await until(() => attempts(b, 7) >= 3 && refuser.accepted >= 3);
      const peers = Object.fromEntries(b.client!.peers.map((p) => [p.serverId, p.state]));
      expect(peers[1]).toBe('synced');
      expect(['connecting', 'disconnected']).toContain(peers[7]);
      expect(['connecting', 'connected', 'disconnected']).toContain(peers[8]);
      await b.backend.flush();
      expect(forms(await flushedEvents(b.backend, 1))).toEqual(forms(await flushedEvents(a.backend, 1)));
    } finally {
      await refuser.close();
    }
  });

  it('a connection that dies mid-backlog resumes from what was registered: no gap, no duplicate', async () => {
    const a = await withSessions(1, 200);
    const proxy = await startProxy(a.address, { cutAfter: 40_000 });
    const received = new Map<number, number>();
    const b = await startNode({
      serverId: 2, peers: [{ serverId: 1, address: proxy.address }],
      clientBackend: (backend) => counting(backend, received),
    });
    await until(() => proxy.connections === 1 && (received.get(1) ?? 0) > 0);
    proxy.cutAfter = undefined; // the next connection goes through
    await until(() => proxy.connections === 2 && a.server.clients.length === 1); // the cut one has left
    await untilCaughtUp(a, b);
    await b.backend.flush();
    const onA = await flushedEvents(a.backend, 1);
    expect(forms(await flushedEvents(b.backend, 1))).toEqual(forms(onA));
    expect(received.get(1)).toBe(onA.length);
    const disconnects = b.log.lines.filter((e) => e.message === 'syncer peer disconnected; reconnecting');
    expect(disconnects).toHaveLength(1);
  });

  it('follows its discovery: a peer removed is disconnected, one added or moved is connected', async () => {
    const a = await withSessions(1, 3);
    const c = await withSessions(3, 3);
    const discovery = new SettablePeers();
    const b = await startNode({ serverId: 2, discovery });
    expect(b.client!.peers).toEqual([]);
    discovery.set([peerOf(a), { serverId: 2, address: a.address }]); // its own id is ignored
    await untilCaughtUp(a, b);
    expect(b.log.lines.some((e) => e.message.includes('own id ignored'))).toBe(true);
    discovery.set([peerOf(c)]);
    await untilCaughtUp(c, b);
    await until(() => a.server.clients.length === 0);
    expect(b.client!.peers.map((p) => p.serverId)).toEqual([3]);
    const proxy = await startProxy(c.address);
    discovery.set([{ serverId: 3, address: proxy.address }]);
    await until(() => proxy.connections === 1 && b.client!.peers[0]?.state === 'synced');
  });

  it('a static list is checked when made', () => {
    expect(() => staticPeers([{ serverId: -1, address: 'tcp+sbs://127.0.0.1:1' }])).toThrow(/syncer peer 0: server id/);
    expect(() => staticPeers([{ serverId: 1, address: 'tcp+sbs://a:1' }, { serverId: 1, address: 'tcp+sbs://b:1' }])).toThrow(/syncer peer 1: server id 1 is listed twice/);
    expect(() => staticPeers([{ serverId: 1, address: 'http://x:1' }])).toThrow(/syncer peer 0: .*scheme/);
    expect(() => staticPeers([{ serverId: 1, address: 'tcp+sbs://x' }])).toThrow(/syncer peer 0: .*missing port/);
  });
});
