// The recorded server frames played to our client (connectSyncer) by a scripted server: our
// client must send the recorded client bytes (MsgReq, flush responses, ping and pong) and hand
// over exactly the recorded sessions. Sessions recorded with the reference library client are
// replayed whole. The three recorded with a raw chatter peer (hand-made bad messages our client
// never sends) are replayed up to that hand-made message; bad_first_message has none before it.
// Normalised: in idle_ping both sides' pings crossed on the wire (each sent its own before it
// saw the other's); our client pings after 0.2 s instead of 20 s, and the script sends the
// server's ping once ours has arrived, so both sides number their messages as recorded.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/common/types.ts';
import { connectSyncer } from '../../src/syncer/stream.ts';
import { readSyncerMsgReq } from '../../src/sbs/syncer-messages.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import { eventForm, hex, unhex } from '../helpers/vectors.ts';
import { until } from './helpers.ts';
import { capture, decodeFrame, FrameCollector, toServer, type Frame } from './replay.ts';

const HAND_MADE: Record<string, number> = { bad_message_after_synced: 4, unsolicited_flush_res: 4 };

/** The frames to play: up to a hand-made client message, with crossing pings put in causal order. */
function script(name: string, frames: Frame[]): Frame[] {
  const played = frames.slice(0, HAND_MADE[name] ?? frames.length);
  const serverPing = played.findIndex((f) => !toServer(f) && f.decoded.type === 'MsgPing');
  const clientPing = played.findIndex((f) => toServer(f) && f.decoded.type === 'MsgPing');
  if (serverPing >= 0 && clientPing > serverPing) played.splice(clientPing, 0, ...played.splice(serverPing, 1));
  return played;
}

/** A scripted server for one connection: sends server frames, checks each client frame. */
function serve(socket: net.Socket, frames: Frame[], closeFirst: boolean): { mismatches: string[]; done: Promise<void> } {
  const mismatches: string[] = [];
  let next = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const pump = (): void => {
    while (next < frames.length && !toServer(frames[next]!)) socket.write(unhex(frames[next++]!.hex));
    if (next < frames.length) return;
    if (closeFirst) socket.end();
    finish();
  };
  const got = new FrameCollector();
  socket.on('data', (chunk: Buffer) => {
    got.push(chunk);
    while (got.frames.length > 0 && next < frames.length) {
      const frame = hex(got.frames.shift()!);
      const f = frames[next++]!;
      if (frame !== f.hex) mismatches.push(`client frame ${f.decoded.type}: sent ${frame}, recorded ${f.hex}`);
    }
    pump();
  });
  socket.on('error', () => undefined);
  pump();
  return { mismatches, done };
}

const sessions = capture.sessions.filter((s) => s.name !== 'bad_first_message');

describe('recorded server frames against our client', () => {
  it.each(sessions.map((s) => [s.name, s] as const))('%s', async (name, session) => {
    const conn = session.connections[0]!;
    const frames = script(name, conn.frames);
    const serverClosesFirst = conn.eof[0]!.direction === 'server->client' && frames.length === conn.frames.length;
    let scripted: ReturnType<typeof serve> | null = null;
    const fake = net.createServer((socket) => (scripted = serve(socket, frames, serverClosesFirst)));
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const req = readSyncerMsgReq(new SbsReader(decodeFrame(unhex(frames[0]!.hex)).data));
      const stream = await connectSyncer(`tcp+sbs://127.0.0.1:${(fake.address() as net.AddressInfo).port}`, {
        ...req, pingTimeout: frames.some((f) => f.decoded.type === 'MsgPing') ? 0.2 : 0,
      });
      const sessionsTaken: Event[][] = [];
      const taking = (async () => {
        for await (const events of stream) sessionsTaken.push(events);
      })();
      await until(() => scripted !== null);
      await scripted!.done;
      const recorded = frames.filter((f) => f.decoded.type === 'MsgEvents').map((f) => f.decoded.data);
      await until(() => sessionsTaken.length >= recorded.length);
      if (!serverClosesFirst) await stream.close();
      await taking;
      expect(scripted!.mismatches).toEqual([]);
      expect(sessionsTaken.map((events) => events.map(eventForm))).toEqual(recorded);
      expect(stream.isSynced).toBe(true);
      await expect(stream.synced).resolves.toBeUndefined();
      expect(stream.lastEventId).toEqual(sessionsTaken.at(-1)?.at(-1)?.id ?? req.lastEventId);
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
