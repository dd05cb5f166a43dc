// A server's stop: flushClients() flushes the backend, then every client confirms it holds all
// that was sent (so a standby holds every event before a switchover); close() gives each synced
// client a last flush request and waits for it, bounded by the flush timeout.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/common/types.ts';
import { compareEventIds } from '../../src/common/event-id.ts';
import { encodeFrame } from '../../src/chatter/framing.ts';
import { SYNCER_MODULE, SyncerMsg, writeSyncerMsgReq } from '../../src/sbs/syncer-messages.ts';
import { connectSyncer } from '../../src/syncer/stream.ts';
import { rawConnect } from '../chatter/helpers.ts';
import { logLines, peerOf, startNode, until, untilCaughtUp, userEvents } from './helpers.ts';
import { decodeFrame, FrameCollector } from './replay.ts';

describe('flushing the clients', () => {
  it('flushClients resolves once each client holds every event registered before it', async () => {
    const a = await startNode({ serverId: 1, flushPeriod: 3600 }); // flushed only when asked
    const b = await startNode({ serverId: 2, peers: [peerOf(a)] });
    const c = await startNode({ serverId: 3, peers: [peerOf(a)] });
    await untilCaughtUp(a, b);
    await untilCaughtUp(a, c);
    let last: Event | null = null;
    for (let s = 0; s < 5; s++) [last] = (await a.engine.register({ type: 'module', id: 1 }, userEvents(s, 3))).slice(-1) as Event[];
    expect(compareEventIds(await b.backend.getLastEventId(1), last!.id)).toBeLessThan(0);
    await a.server.flushClients();
    for (const standby of [b, c]) expect(await standby.backend.getLastEventId(1)).toEqual(last!.id);
  });

  it('close: a synced client answers a last flush request before its connection closes', async () => {
    const a = await startNode({ serverId: 1 });
    const stream = await connectSyncer(a.address, { clientName: 'lib', lastEventId: { server: 1, session: 0, instance: 0 } });
    const taking = (async () => {
      for await (const _ of stream) { /* take */ }
    })();
    await stream.synced;
    await until(() => a.server.clients[0]?.synced === true);
    const started = Date.now();
    await a.server.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await taking;
    expect(logLines(a.log.lines).filter((l) => l.startsWith('warning'))).toEqual([]);
  });

  it('close: a client that does not answer is waited for up to the flush timeout, logged', async () => {
    const a = await startNode({ serverId: 1, server: { flushTimeout: 0.3 } });
    const peer = await rawConnect(a.address);
    const got = new FrameCollector();
    peer.socket.on('data', (c: Buffer) => got.push(c));
    peer.socket.write(encodeFrame({ id: 1, first: 1, owner: true, token: true, last: true }, SYNCER_MODULE, SyncerMsg.req,
      (w) => writeSyncerMsgReq(w, { lastEventId: { server: 1, session: 1_000_000, instance: 0 }, clientName: 'mute' })));
    await until(() => a.server.clients[0]?.synced === true);
    const started = Date.now();
    await a.server.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await peer.ended;
    expect(got.frames.map((f) => decodeFrame(f).type)).toEqual([SyncerMsg.synced, SyncerMsg.flushReq]);
    expect(logLines(a.log.lines).join('\n')).toMatch(/syncer client did not confirm a flush in time .*"timeout_ms":300/);
  });
});
