// The attacks of the edge-hardening issue, as clients of a running eventer server, plus a
// well-behaved client that registers throughout and counts its failures, and the memory of a
// server process read from /proc. Used by bench/attacks.ts (the before/after table) and by the
// ceiling tests (test/cli/limits.test.ts), so both drive the same attacks.
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { parseAddress } from '../src/chatter/address.ts';
import { encodeFrame, type DataWriter } from '../src/chatter/framing.ts';
import { connectEventer, type EventerClient } from '../src/eventer/client.ts';
import { writeMsgSubscribe } from '../src/sbs/eventer-messages.ts';
import { writeQueryData } from '../src/sbs/query-codec.ts';
import type { RegisterEvent } from '../src/common/types.ts';

export const MiB = 1024 * 1024;

/**
 * Memory of a process in MiB (Linux): resident, its anonymous part (the heap and buffers, without
 * the pages of mapped files such as the LMDB database, which the kernel may drop at will), and the
 * peak resident size.
 */
export function memoryOf(pid: number): { rss: number; anon: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Samples the memory every `ms` until stopped; the highest resident and anonymous sizes seen. */
export function memorySampler(pid: number, ms = 20): { stop(): { rss: number; anon: number } } {
  const max = { rss: 0, anon: 0 };
  const sample = (): void => {
    try {
      const m = memoryOf(pid);
      if (Number.isNaN(m.rss)) return; // an exited process not yet reaped has no memory lines
      max.rss = Math.max(max.rss, m.rss);
      max.anon = Math.max(max.anon, m.anon);
    } catch {
      // the process has exited
    }
  };
  sample();
  const timer = setInterval(sample, ms);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return max;
    },
  };
}

export function frame(type: string, write: DataWriter, last = true, id = 1): Uint8Array {
  return encodeFrame({ id, first: id, owner: true, token: true, last }, 'HatEventer', type, write);
}

/** A raw TCP socket to a chatter address; `closed` resolves when the server (or we) closed it. */
export async function rawSocket(address: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const { host, port } = parseAddress(address);
  const socket = net.connect({ host, port });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    void closed.then(() => reject(new Error('closed before connecting')));
  });
  return { socket, closed };
}

/** Writes, then waits for the socket to drain (or close) when its buffer is full. */
function write(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  if (socket.write(bytes)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done).off('close', done);
      resolve();
    };
    socket.on('drain', done).on('close', done);
  });
}

export interface Held {
  /** how many connections the server closed (a paused socket is resumed to notice) */
  closedByServer(): Promise<number>;
  release(): void;
}

function held(peers: { socket: net.Socket; closed: Promise<void> }[]): Held {
  let closed = 0;
  for (const p of peers) void p.closed.then(() => closed++);
  return {
    async closedByServer() {
      for (const { socket } of peers) socket.resume();
      await new Promise((r) => setTimeout(r, 500));
      return closed;
    },
    release: () => peers.forEach((p) => p.socket.destroy()),
  };
}

/** `n` connections, each sending the header of a `claim`-byte frame and then `send` bytes of its body. */
export async function partialFrames(address: string, n: number, claim: number, send: number): Promise<Held> {
  const peers = await Promise.all(Array.from({ length: n }, () => rawSocket(address)));
  const header = Buffer.from([4, 0, 0, 0, 0]);
  header.writeUInt32BE(claim, 1);
  const chunk = Buffer.alloc(MiB, 0x80);
  await Promise.all(peers.map(async ({ socket }) => {
    await write(socket, header);
    for (let sent = 0; sent < send && !socket.destroyed; sent += chunk.length) {
      await write(socket, chunk.subarray(0, Math.min(chunk.length, send - sent)));
    }
  }));
  return held(peers);
}

/** `n` subscribers to everything that never read what they are sent. */
export async function slowReaders(address: string, n: number): Promise<Held> {
  const peers = await Promise.all(Array.from({ length: n }, () => rawSocket(address)));
  for (const { socket } of peers) {
    socket.pause();
    socket.write(frame('MsgSubscribe', (w) => writeMsgSubscribe(w, [['*']])));
  }
  return held(peers);
}

/** Registers `events()` every `intervalMs` until stopped, counting what did not succeed. */
export function goodClient(address: string, events: () => RegisterEvent[], intervalMs = 20): {
  stop(): Promise<{ ok: number; failed: number; reasons: string[] }>;
} {
  let running = true;
  const tally = { ok: 0, failed: 0, reasons: [] as string[] };
  const fail = (reason: string): void => {
    tally.failed++;
    if (tally.reasons.length < 5) tally.reasons.push(reason);
  };
  const loop = (async () => {
    let client: EventerClient | null = null;
    while (running) {
      try {
        client ??= await connectEventer(address);
        const results = await client.registerWithResponse(events());
        if (results.every((e) => e !== null)) tally.ok++;
        else fail('null in the register response');
      } catch (err) {
        fail(String(err));
        await client?.close().catch(() => undefined);
        client = null;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    await client?.close();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return tally;
    },
  };
}

/**
 * `n` connections at once, each asking one query: 'served' when answered within `waitMs`,
 * 'refused' when closed by the server, 'hung' when neither.
 */
export async function connectionFlood(address: string, n: number, waitMs = 5000): Promise<Record<'served' | 'refused' | 'hung', number>> {
  const { host, port } = parseAddress(address);
  const query = frame('MsgQueryReq', (w) => writeQueryData(w, { maxResults: 1 }), false);
  const sockets: net.Socket[] = [];
  const outcomes = await Promise.all(Array.from({ length: n }, () => new Promise<'served' | 'refused' | 'hung'>((resolve) => {
    const socket = net.connect({ host, port });
    sockets.push(socket);
    const timer = setTimeout(() => resolve('hung'), waitMs);
    const settle = (outcome: 'served' | 'refused'): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    socket.on('error', () => undefined);
    socket.once('connect', () => socket.write(query));
    socket.once('data', () => settle('served'));
    socket.once('close', () => settle('refused'));
  })));
  for (const s of sockets) s.destroy();
  const count = { served: 0, refused: 0, hung: 0 };
  for (const o of outcomes) count[o]++;
  return count;
}

/** `n` connections in turn, each sending one frame the server must refuse (an unknown message type). */
export async function badFrames(address: string, n: number, parallel = 50): Promise<void> {
  const bad = encodeFrame({ id: 1, first: 1, owner: true, token: true, last: true }, 'HatEventer', 'MsgNotAThing');
  for (let done = 0; done < n; done += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, n - done) }, async () => {
      try {
        const { socket, closed } = await rawSocket(address);
        socket.write(bad);
        await closed;
      } catch {
        // refused before connecting: counted by the server's log, not here
      }
    }));
  }
}
