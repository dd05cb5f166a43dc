// A chatter server on 127.0.0.1 talked to through a raw TCP socket, so tests can send exact
// bytes (including garbage) and see exact bytes back.
import * as net from 'node:net';
import { listen, type ChatterServer } from '../../src/chatter/transport.ts';
import type { ChatterConnection, ConnectionOptions } from '../../src/chatter/connection.ts';
import { parseAddress } from '../../src/chatter/address.ts';
import { recordingLogger } from '../helpers/logger.ts';
import { HAT_EVENT_TYPES } from '../../src/sbs/hat-event-types.ts';

export interface RawPeer {
  socket: net.Socket;
  received(): Buffer;
  /** Resolves once at least `n` bytes arrived. */
  waitBytes(n: number): Promise<Buffer>;
  ended: Promise<void>;
}

export async function rawConnect(address: string): Promise<RawPeer> {
  const { host, port } = parseAddress(address);
  const socket = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  let waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const received = (): Buffer => Buffer.concat(chunks);
  return {
    socket, received, ended,
    async waitBytes(n) {
      while (received().length < n) await new Promise<void>((r) => waiters.push(r));
      return received();
    },
  };
}

export async function serverWithConnections(opts: ConnectionOptions = {}): Promise<{
  server: ChatterServer; address: string; next(): Promise<ChatterConnection>; logs: string[];
}> {
  const logs: string[] = [];
  const pending: ChatterConnection[] = [];
  let wake: (() => void) | null = null;
  const server = await listen('tcp+sbs://127.0.0.1:0', (conn) => {
    pending.push(conn);
    wake?.();
  }, { logger: recordingLogger(logs), sbsTypes: HAT_EVENT_TYPES, ...opts });
  return {
    server, logs, address: server.addresses[0]!,
    async next() {
      while (pending.length === 0) await new Promise<void>((r) => (wake = r));
      return pending.shift()!;
    },
  };
}
