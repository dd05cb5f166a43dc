// Bad input closes that one connection with a logged reason, and nothing else: the server keeps
// serving, the status list forgets the client, and our client side refuses a misbehaving server.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/common/types.ts';
import { encodeFrame } from '../../src/chatter/framing.ts';
import { SYNCER_MODULE, SyncerMsg, writeSyncerMsgReq } from '../../src/sbs/syncer-messages.ts';
import { EVENTER_MODULE, EventerMsg, writeMsgSubscribe } from '../../src/sbs/eventer-messages.ts';
import { writeEvents } from '../../src/sbs/event-codec.ts';
import type { DataWriter } from '../../src/chatter/framing.ts';
import { connectSyncer } from '../../src/syncer/stream.ts';
import { rawConnect, type RawPeer } from '../chatter/helpers.ts';
import { logLines, captureLogger, startNode, statusEvents, until, type Node } from './helpers.ts';
import { decodeFrame, FrameCollector } from './replay.ts';

const req = (session = 0, name = 'raw'): DataWriter => (w) => writeSyncerMsgReq(w, { lastEventId: { server: 1, session, instance: 0 }, clientName: name });
const frame = (id: number, module: string, type: string, write?: DataWriter, last = true): Uint8Array =>
  encodeFrame({ id, first: id, owner: true, token: true, last }, module, type, write);

/** A raw peer whose received frames are decoded as they come. */
async function rawPeer(node: Node): Promise<RawPeer & { types(): string[] }> {
  const peer = await rawConnect(node.address);
  const got = new FrameCollector();
  peer.socket.on('data', (c: Buffer) => got.push(c));
  return Object.assign(peer, { types: () => got.frames.map((f) => decodeFrame(f).type) });
}

async function stillServes(node: Node): Promise<void> {
  const stream = await connectSyncer(node.address, { clientName: 'good', lastEventId: { server: 1, session: 0, instance: 0 } });
  const taking = (async () => {
    for await (const _ of stream) { /* take */ }
  })();
  await stream.synced;
  await stream.close();
  await taking;
}

const closingReasons = (node: Node): string[] =>
  node.log.lines.filter((e) => e.message === 'closing syncer client connection').map((e) => String(e.fields['reason']));

describe('bad input to the server', () => {
  it.each([
    ['an eventer message first', frame(1, EVENTER_MODULE, EventerMsg.subscribe, (w) => writeMsgSubscribe(w, [['*']])), /unexpected message HatEventer.MsgSubscribe/],
    ['MsgFlushRes first', frame(1, SYNCER_MODULE, SyncerMsg.flushRes), /first message must be MsgReq, got MsgFlushRes/],
    ['MsgEvents first', frame(1, SYNCER_MODULE, SyncerMsg.events, (w) => writeEvents(w, [])), /first message must be MsgReq, got MsgEvents/],
    ['a malformed MsgReq', frame(1, SYNCER_MODULE, SyncerMsg.req, (w) => w.raw(new Uint8Array([0x81, 0x82]))), /malformed MsgReq/],
    ['a MsgReq with a negative id', frame(1, SYNCER_MODULE, SyncerMsg.req, (w) => writeSyncerMsgReq(w, { lastEventId: { server: 1, session: -2, instance: 0 }, clientName: 'x' })), /malformed MsgReq: .*session must not be negative/],
  ])('%s: closed without a word, the reason logged', async (_name, bytes, reason) => {
    const a = await startNode({ serverId: 1 });
    const peer = await rawPeer(a);
    peer.socket.write(bytes);
    await peer.ended;
    expect(peer.types()).toEqual([]);
    expect(closingReasons(a)).toEqual([expect.stringMatching(reason)]);
    await stillServes(a);
    expect(statusEvents(a).some(([, list]) => JSON.stringify(list).includes('"raw"'))).toBe(false);
  });

  it('an unknown SBS type or broken framing closes the connection (chatter), logged', async () => {
    const a = await startNode({ serverId: 1 });
    const peer = await rawPeer(a);
    peer.socket.write(frame(1, SYNCER_MODULE, 'MsgNope'));
    await peer.ended;
    expect(logLines(a.log.lines).join('\n')).toMatch(/unknown SBS type HatSyncer.MsgNope/);
    await stillServes(a);
  });

  it.each([
    ['a second MsgReq', frame(2, SYNCER_MODULE, SyncerMsg.req, req()), /unexpected MsgReq after MsgReq/],
    ['MsgEvents', frame(2, SYNCER_MODULE, SyncerMsg.events, (w) => writeEvents(w, [])), /unexpected MsgEvents after MsgReq/],
    ['an eventer message', frame(2, EVENTER_MODULE, EventerMsg.subscribe, (w) => writeMsgSubscribe(w, [['*']])), /unexpected message HatEventer/],
  ])('%s after synced: one MsgFlushReq, then closed at once (as the reference), the reason logged', async (_name, bytes, reason) => {
    const a = await startNode({ serverId: 1, server: { flushTimeout: 30 } });
    const peer = await rawPeer(a);
    peer.socket.write(frame(1, SYNCER_MODULE, SyncerMsg.req, req(1_000_000)));
    await until(() => peer.types().includes(SyncerMsg.synced));
    await until(() => a.server.clients[0]?.synced === true);
    const started = Date.now();
    peer.socket.write(bytes);
    await peer.ended;
    expect(Date.now() - started).toBeLessThan(30_000); // the flush request is not waited for
    expect(peer.types()).toEqual([SyncerMsg.synced, SyncerMsg.flushReq]);
    expect(closingReasons(a)).toEqual([expect.stringMatching(reason)]);
    await until(() => a.server.clients.length === 0);
    await stillServes(a);
  });

  it('a MsgFlushRes that answers nothing is ignored', async () => {
    const a = await startNode({ serverId: 1 });
    const peer = await rawPeer(a);
    peer.socket.write(frame(1, SYNCER_MODULE, SyncerMsg.req, req(1_000_000)));
    await until(() => peer.types().includes(SyncerMsg.synced));
    peer.socket.write(frame(2, SYNCER_MODULE, SyncerMsg.flushRes));
    await new Promise((r) => setTimeout(r, 200));
    expect(peer.socket.destroyed).toBe(false);
    expect(a.server.clients).toHaveLength(1);
    expect(closingReasons(a)).toEqual([]);
    peer.socket.destroy();
  });
});

/** A fake Syncer server sending `frames` after the client's MsgReq. */
async function fakeServer(frames: Uint8Array[]): Promise<{ address: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      for (const f of frames) socket.write(f);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `tcp+sbs://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const event = (server: number, session: number, instance: number): Event =>
  ({ id: { server, session, instance }, type: ['a'], timestamp: { s: 1, us: 0 }, sourceTimestamp: null, payload: null });
const eventsFrame = (id: number, events: Event[]): Uint8Array => frame(id, SYNCER_MODULE, SyncerMsg.events, (w) => writeEvents(w, events));

describe('bad input to the client', () => {
  it.each([
    ['events out of order', [eventsFrame(1, [event(1, 2, 5)]), eventsFrame(2, [event(1, 2, 4)])], /events out of order: 1\/2\/4 after 1\/2\/5/, 1],
    ['events at or below the requested id', [eventsFrame(1, [event(1, 1, 3)])], /events out of order: 1\/1\/3 after 1\/1\/3/, 0],
    ['a malformed MsgEvents', [frame(1, SYNCER_MODULE, SyncerMsg.events, (w) => w.raw(new Uint8Array([0x85, 1])))], /malformed MsgEvents/, 0],
    ['MsgSynced twice', [frame(1, SYNCER_MODULE, SyncerMsg.synced), frame(2, SYNCER_MODULE, SyncerMsg.synced)], /MsgSynced received twice/, 0],
    ['a MsgReq from the server', [frame(1, SYNCER_MODULE, SyncerMsg.req, req())], /unexpected MsgReq/, 0],
    ['an eventer message', [frame(1, EVENTER_MODULE, EventerMsg.subscribe, (w) => writeMsgSubscribe(w, [['*']]))], /unexpected message HatEventer/, 0],
  ])('%s: closed with the reason logged; what came before stays readable', async (name, frames, reason, good) => {
    const fake = await fakeServer(frames);
    const log = captureLogger('hat.event');
    try {
      const stream = await connectSyncer(fake.address, { clientName: 'c', lastEventId: { server: 1, session: 1, instance: 3 }, logger: log });
      await stream.closed;
      const taken: Event[][] = [];
      for await (const events of stream) taken.push(events);
      expect(taken).toHaveLength(good);
      expect(stream.failure?.message).toMatch(reason);
      expect(logLines(log.lines).join('\n')).toMatch(reason);
      // the first MsgSynced was fine, and the loop went past it
      if (name === 'MsgSynced twice') await expect(stream.synced).resolves.toBeUndefined();
      else await expect(stream.synced).rejects.toThrow(reason);
    } finally {
      await fake.close();
    }
  });

  it('drops another server\'s events that a Hat 0.8 server can append to a session ([Q] of its LMDB flush)', async () => {
    const fake = await fakeServer([eventsFrame(1, [event(1, 2, 1), event(1, 2, 2), event(2, 2, 1)]), frame(2, SYNCER_MODULE, SyncerMsg.synced)]);
    try {
      const stream = await connectSyncer(fake.address, { clientName: 'c', lastEventId: { server: 1, session: 0, instance: 0 } });
      const taken: Event[][] = [];
      const taking = (async () => {
        for await (const events of stream) taken.push(events);
      })();
      await stream.synced;
      expect(taken.map((s) => s.map((e) => e.id))).toEqual([[{ server: 1, session: 2, instance: 1 }, { server: 1, session: 2, instance: 2 }]]);
      await stream.close();
      await taking;
    } finally {
      await fake.close();
    }
  });
});

