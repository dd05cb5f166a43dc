// Replaying recorded monitor sessions over real sockets. One side is played from the recording
// (exact bytes); the other is the code under test, whose frames are collected whole, as bytes.
// Order across the two directions is only causal in a recording, so the played side sends a
// frame once the other side has sent everything it had sent before that frame's time.
import * as net from 'node:net';
import { SbsReader } from '../../src/sbs/reader.ts';
import { readHatMsg } from '../../src/sbs/hat-messages.ts';
import { encodeFrame } from '../../src/chatter/framing.ts';
import { readMsgServer, type SbsInteger } from '../../src/sbs/monitor-messages.ts';
import { hex, unhex } from '../helpers/vectors.ts';
import type { SessionFrame } from '../helpers/monitor-vectors.ts';

/** Whole chatter frames (length prefix included) as they arrive on a socket, in hex. */
export class FrameCollector {
  readonly frames: string[] = [];
  readonly ended: Promise<void>;
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      for (;;) {
        if (this.#buffer.length < 1) break;
        const m = this.#buffer[0]!;
        if (this.#buffer.length < 1 + m) break;
        let len = 0;
        for (let i = 1; i <= m; i++) len = len * 256 + this.#buffer[i]!;
        if (this.#buffer.length < 1 + m + len) break;
        this.frames.push(this.#buffer.subarray(0, 1 + m + len).toString('hex'));
        this.#buffer = this.#buffer.subarray(1 + m + len);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  async waitFor(count: number, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.frames.length < count) {
      if (Date.now() > deadline) throw new Error(`${what}: ${this.frames.length} of ${count} frames arrived in ${ms} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }
}

export async function rawConnect(address: string): Promise<FrameCollector> {
  const url = new URL(address);
  const socket = net.connect({ host: url.hostname, port: Number(url.port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return new FrameCollector(socket);
}

/** A listener whose first accepted connection is handed over as a FrameCollector. */
export async function rawListen(): Promise<{ address: string; accepted: Promise<FrameCollector>; close(): Promise<void> }> {
  let accept!: (c: FrameCollector) => void;
  const accepted = new Promise<FrameCollector>((resolve) => (accept = resolve));
  const server = net.createServer((socket) => accept(new FrameCollector(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `tcp+sbs://127.0.0.1:${port}`,
    accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The recorded frame with its envelope id (and first) changed, for a sender that skips a duplicate. */
export function renumbered(frameHex: string, id: number): string {
  const bytes = unhex(frameHex);
  const m = bytes[0]!;
  const msg = readHatMsg(new SbsReader(bytes, 1 + m));
  const data = Uint8Array.prototype.slice.call(msg.data);
  return hex(encodeFrame({ ...msg, id, first: id }, msg.module, msg.type, (w) => w.raw(data)));
}

/** The master clock of the recording: each new token's grant timestamp, in order of appearance. */
export function recordedGrantClock(frames: readonly SessionFrame[]): () => number {
  const seen = new Map<SbsInteger, number>();
  for (const f of [...frames].sort((a, b) => a.t - b.t)) {
    if (f.type !== 'HatMonitor.MsgServer') continue;
    const bytes = unhex(f.hex);
    const inner = readHatMsg(new SbsReader(bytes, 1 + bytes[0]!)).data;
    for (const c of readMsgServer(new SbsReader(inner)).components) {
      const { token, timestamp } = c.blessingReq;
      if (token !== null && timestamp !== null && !seen.has(token)) seen.set(token, timestamp);
    }
  }
  const timestamps = [...seen.values()];
  return () => {
    const next = timestamps.shift();
    if (next === undefined) throw new Error('the replay granted more tokens than the recording');
    return next;
  };
}

export const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
