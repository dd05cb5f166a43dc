// Replays vectors/eventer-wire-capture.json (real sessions between the reference client and
// server): the recorded client frames against our server, and the recorded server frames
// against our client.
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/chatter/framing.ts';
import { readHatMsg, type HatMsg } from '../../src/sbs/hat-messages.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import { readEvents } from '../../src/sbs/event-codec.ts';
import { readQueryData } from '../../src/sbs/query-codec.ts';
import { readMsgRegisterReq, readMsgRegisterRes } from '../../src/sbs/eventer-messages.ts';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import type { Event } from '../../src/common/types.ts';
import { rawConnect, type RawPeer } from '../chatter/helpers.ts';
import { eventForm, hex, unhex, VECTORS_DIR } from '../helpers/vectors.ts';
import { payloadView, startServer, until, type Running } from './helpers.ts';

interface Frame { direction: 'client->server' | 'server->client'; hex: string; decoded: { type: string; last: boolean; data: unknown } }
interface Session { name: string; connections: { connection: number; frames: Frame[] }[] }
const capture = JSON.parse(readFileSync(`${VECTORS_DIR}/eventer-wire-capture.json`, 'utf8')) as { sessions: Session[] };

const toServer = (f: Frame): boolean => f.direction === 'client->server';
const body = (frameHex: string): Uint8Array => {
  let out: Uint8Array | null = null;
  new FrameDecoder().push(unhex(frameHex), (b) => ((out = b), true));
  return out!;
};
const decodeMsg = (b: Uint8Array): HatMsg => readHatMsg(new SbsReader(b));

/** What must match between the reference server's message and ours. */
function structure(m: HatMsg): unknown {
  const r = new SbsReader(m.data);
  const view = (e: Event) => ({ type: e.type, sourceTimestamp: e.sourceTimestamp, payload: payloadView(e.payload) });
  let data: unknown = hex(m.data);
  if (m.type === 'MsgNotify' || m.type === 'MsgQueryRes') data = readEvents(r).map(view);
  if (m.type === 'MsgRegisterRes') data = readMsgRegisterRes(r).map((e) => e && view(e));
  return {
    module: m.module, type: m.type, owner: m.owner, token: m.token, last: m.last,
    // new conversations: first = own id; replies: first = the request's id
    first: m.owner ? m.first === m.id : m.first,
    data,
  };
}

function collect(peer: RawPeer): { msgs: HatMsg[] } {
  const decoder = new FrameDecoder();
  const state = { msgs: [] as HatMsg[] };
  peer.socket.on('data', (chunk: Buffer) => decoder.push(chunk, (b) => (state.msgs.push(decodeMsg(Uint8Array.prototype.slice.call(b))), true)));
  return state;
}

let running: Running | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

describe('recorded client frames against our server', () => {
  it.each(capture.sessions.map((s) => [s.name, s] as const))('%s', async (_name, session) => {
    running = await startServer();
    const peers: { peer: RawPeer; got: { msgs: HatMsg[] }; frames: Frame[] }[] = [];
    for (const conn of session.connections) {
      const peer = await rawConnect(running.address);
      const got = collect(peer);
      let expectedSoFar = 0;
      for (const f of conn.frames) {
        if (!toServer(f)) {
          expectedSoFar++;
          continue;
        }
        await until(() => got.msgs.length >= expectedSoFar);
        peer.socket.write(unhex(f.hex));
      }
      await new Promise((r) => setTimeout(r, 50)); // let the last requests take effect
      peers.push({ peer, got, frames: conn.frames });
    }
    for (const { peer, got, frames } of [...peers].reverse()) {
      const expected = frames.filter((f) => !toServer(f));
      await until(() => got.msgs.length >= expected.length);
      expect(got.msgs.map(structure)).toEqual(expected.map((f) => structure(decodeMsg(body(f.hex)))));
      peer.socket.destroy();
      await peer.ended;
      await new Promise((r) => setTimeout(r, 30));
    }
  });
});

/** A fake server playing one recorded connection: checks each client frame, sends the server frames. */
function scriptedConnection(socket: net.Socket, frames: Frame[], mismatches: string[]): { done: Promise<void> } {
  let idx = 0;
  let finish: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const pump = (): void => {
    while (idx < frames.length && !toServer(frames[idx]!)) socket.write(unhex(frames[idx++]!.hex));
    if (idx >= frames.length) finish();
  };
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (b) => {
    if (idx >= frames.length) return true; // after the script (e.g. further pings)
    const f = frames[idx++]!;
    const prefix = unhex(f.hex).subarray(0, unhex(f.hex).length - b.length);
    if (hex(prefix) + hex(b) !== f.hex) mismatches.push(`frame ${idx - 1}: sent ${hex(prefix)}${hex(b)}, recorded ${f.hex}`);
    pump();
    return true;
  }));
  socket.on('error', () => undefined);
  pump();
  return { done };
}

/** Drives our client with the calls the recorded client frames came from. */
async function drive(client: EventerClient, frames: Frame[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const f of frames.filter(toServer).slice(frames[0]!.decoded.type === 'MsgSubscribe' ? 1 : 0)) {
    const r = new SbsReader(decodeMsg(body(f.hex)).data);
    if (f.decoded.type === 'MsgRegisterReq' && f.decoded.last) await client.register(readMsgRegisterReq(r));
    else if (f.decoded.type === 'MsgRegisterReq') results.push((await client.registerWithResponse(readMsgRegisterReq(r))).map((e) => (e ? ['event', eventForm(e)] : ['failure', null])));
    else if (f.decoded.type === 'MsgQueryReq') results.push((await client.query(readQueryData(r))).map(eventForm));
  }
  return results;
}

describe('recorded server frames against our client', () => {
  it.each(capture.sessions.map((s) => [s.name, s] as const))('%s', async (name, session) => {
    const mismatches: string[] = [];
    const scripts: { done: Promise<void> }[] = [];
    let accepted = 0;
    const fake = net.createServer((socket) => {
      scripts.push(scriptedConnection(socket, session.connections[accepted++]!.frames, mismatches));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const address = `tcp+sbs://127.0.0.1:${(fake.address() as net.AddressInfo).port}`;
    try {
      const clients: EventerClient[] = [];
      const outcomes: Promise<{ results: unknown[]; notified: unknown[] }>[] = [];
      for (const conn of session.connections) {
        const first = conn.frames[0]!;
        const pings = conn.frames.some((f) => f.decoded.type === 'MsgPing');
        const client = await connectEventer(address, {
          subscriptions: first.decoded.type === 'MsgSubscribe' ? (first.decoded.data as string[][]) : [],
          pingTimeout: pings ? 0.1 : 0,
        });
        clients.push(client);
        await until(() => scripts.length === clients.length);
        const notifyFrames = conn.frames.filter((f) => f.decoded.type === 'MsgNotify');
        outcomes.push((async () => {
          const results = await drive(client, conn.frames);
          const notified: unknown[] = [];
          for (let i = 0; i < notifyFrames.length; i++) notified.push((await client.receive()).map(eventForm));
          return { results, notified };
        })());
      }
      await Promise.all(scripts.map((s) => s.done));
      for (const [i, conn] of session.connections.entries()) {
        const { results, notified } = await outcomes[i]!;
        const responses = conn.frames.filter((f) => ['MsgRegisterRes', 'MsgQueryRes'].includes(f.decoded.type));
        expect(results).toEqual(responses.map((f) => f.decoded.data));
        expect(notified).toEqual(conn.frames.filter((f) => f.decoded.type === 'MsgNotify').map((f) => f.decoded.data));
        // still open: pongs matched our pings, nothing unexpected arrived
        const state = await Promise.race([clients[i]!.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 150))]);
        expect(state).toBe('open');
      }
      expect(mismatches, `${name}: client bytes differ from the reference client`).toEqual([]);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
