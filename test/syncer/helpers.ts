// Syncer test nodes assembled in-process as a server would be: a real LMDB backend in a temp
// folder, the real engine on it, a Syncer server on 127.0.0.1 (free port) and, when peers are
// given, a Syncer client; all closed after each test.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import type { Event, EventId, RegisterEvent } from '../../src/common/types.ts';
import { captureLogger, type CapturedLine } from '../helpers/logger.ts';
import { compareEventIds, eventIdKey } from '../../src/common/event-id.ts';
import type { Backend } from '../../src/backends/backend.ts';
import { openLmdbBackend } from '../../src/backends/lmdb/backend.ts';
import { lmdbConf } from './lmdb-conf.ts';
import { createEngine, type Engine } from '../../src/engine/index.ts';
import { createSyncerServer, type SyncerServer, type SyncerServerOptions } from '../../src/syncer/server.ts';
import { createSyncerClient, type SyncerClient, type SyncerClientOptions } from '../../src/syncer/client.ts';
import { staticPeers, type PeerDiscovery, type SyncerPeer } from '../../src/syncer/peers.ts';
import { flushedOnRegister } from '../../src/syncer/flushed-on-register.ts';
import { createMemoryBackend } from '../../src/backends/memory.ts';
import { createDummyBackend } from '../../src/backends/dummy.ts';
import * as net from 'node:net';
import { jsonPayloadFromText, jsonPayloadText } from '../../src/common/json-payload.ts';
import { eventForm } from '../helpers/vectors.ts';
import { until } from '../helpers/until.ts';
export { until };

const dirs: string[] = [];

export function tempDbPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-syncer-'));
  dirs.push(dir);
  return path.join(dir, 'events.db');
}

export interface NodeOptions {
  serverId: number;
  /** reuse a database (a restart); default a fresh temp file */
  dbPath?: string;
  /** seconds; default 0.05 */
  flushPeriod?: number;
  /** default tcp+sbs://127.0.0.1:0 */
  address?: string;
  server?: SyncerServerOptions;
  /** a Syncer client is started when given (or `discovery`) */
  peers?: SyncerPeer[];
  discovery?: PeerDiscovery;
  /** default lmdb; the others are seen through flushedOnRegister unless `hatView` */
  backendKind?: 'lmdb' | 'memory' | 'dummy';
  /** a non-persisting backend as Hat serves it: nothing flushed, ever */
  hatView?: boolean;
  client?: SyncerClientOptions;
  /** wraps the backend the syncer client registers into (to observe or slow it) */
  clientBackend?: (backend: Backend) => Backend;
}

export interface Node {
  serverId: number;
  dbPath: string;
  backend: Backend;
  engine: Engine;
  server: SyncerServer;
  address: string;
  client: SyncerClient | null;
  log: ReturnType<typeof captureLogger>;
  /** every session the engine stored, in order */
  sessions: Event[][];
  /** closes as a server stop does: client, engine, flush clients, syncer server, backend */
  close(): Promise<void>;
}

const running: Node[] = [];

afterEach(async () => {
  for (const node of running.splice(0).reverse()) await node.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

export async function startNode(opts: NodeOptions): Promise<Node> {
  const dbPath = opts.dbPath ?? tempDbPath();
  const log = captureLogger('hat.event');
  const kind = opts.backendKind ?? 'lmdb';
  const backend = kind === 'lmdb'
    ? await openLmdbBackend(lmdbConf(dbPath, opts.flushPeriod ?? 0.05), { cleanup: false })
    : await (kind === 'memory' ? createMemoryBackend() : createDummyBackend()).then((b) => (opts.hatView ? b : flushedOnRegister(b)));
  const engine = await createEngine({ server_id: opts.serverId, modules: [] }, backend);
  const sessions: Event[][] = [];
  engine.onEvents((events) => sessions.push(events));
  const server = await createSyncerServer(opts.address ?? 'tcp+sbs://127.0.0.1:0', backend, engine, { logger: log, ...opts.server });
  const discovery = opts.discovery ?? (opts.peers ? staticPeers(opts.peers) : null);
  const client = discovery
    ? createSyncerClient(opts.serverId, opts.clientBackend?.(backend) ?? backend, engine, discovery, {
      logger: log, reconnectDelay: 0.1, ...opts.client,
    })
    : null;
  let closing: Promise<void> | null = null;
  const node: Node = {
    serverId: opts.serverId, dbPath, backend, engine, server, client, log, sessions,
    address: server.addresses[0]!,
    close() {
      closing ??= (async () => {
        await client?.close();
        await engine.close();
        await server.flushClients().catch(() => undefined);
        await server.close();
        await backend.close();
      })();
      return closing;
    },
  };
  running.push(node);
  return node;
}

/** A node's view as a peer of others. */
export const peerOf = (node: Node): SyncerPeer => ({ serverId: node.serverId, address: node.address });

/** Every flushed event of `server` in `backend`, in id order. */
export async function flushedEvents(backend: Backend, server: number, after: EventId = { server, session: 0, instance: 0 }): Promise<Event[]> {
  const all: Event[] = [];
  for await (const session of backend.queryFlushed(after)) all.push(...session);
  return all;
}

/** Events as plain comparable values: ids, types, timestamps, source timestamps, payload bytes/text. */
export const forms = (events: Event[]): unknown[] => events.map(eventForm);

/** Waits until `backend` holds (registered) `id`'s server up to `id`. */
export async function untilHolds(backend: Backend, id: EventId, ms = 10_000): Promise<void> {
  await until(async () => compareEventIds(await backend.getLastEventId(id.server), id) >= 0, ms, `holding ${eventIdKey(id)}`);
}

/**
 * Waits until `to` (syncing from `from`) holds every event `from` has, including the status events
 * `from` registers about `to`'s connection: `to` is listed as synced and the last status event
 * registered is the current client list.
 */
export async function untilCaughtUp(from: Node, to: Node): Promise<void> {
  const name = String(to.serverId);
  await until(() => {
    const clients = from.server.clients;
    const latest = statusEvents(from).filter(([type]) => type === 'event/syncer/server').at(-1)?.[1];
    return clients.some((c) => c.clientName === name && c.synced)
      && JSON.stringify(latest) === JSON.stringify(clients.map((c) => ({ client_name: c.clientName, synced: c.synced })));
  }, 10_000, `${from.serverId} listing ${name} as synced`);
  const last = await from.backend.getLastEventId(from.serverId); // before the flush: it covers what is registered now
  await from.backend.flush();
  await untilHolds(to.backend, last);
}

/** Varied user events: every payload kind, with and without source timestamps. */
export function userEvents(session: number, count: number): RegisterEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = session * 1000 + i;
    const kind = n % 4;
    return {
      type: ['test', `s${session % 7}`, String(i)],
      sourceTimestamp: n % 3 === 0 ? null : { s: 1_600_000_000 + n, us: (n * 7919) % 1_000_000 },
      payload: kind === 0 ? jsonPayloadFromText(`{"n": ${n}, "text": "\\u017e${n}", "f": 1.5}`)
        : kind === 1 ? { type: 'binary', data: new Uint8Array([n & 255, (n >> 8) & 255, 0, 255]) }
        : kind === 2 ? { type: 'sbs', data: { module: 'M', type: `T${n % 5}`, data: new Uint8Array([1, 2, n & 255]) } }
        : null,
    };
  });
}

/** The syncer status events a node's engine stored, as [type, payload value] pairs. */
export function statusEvents(node: Node): [string, unknown][] {
  return statusSessions(node).map(([e]) => [e!.type.join('/'), e!.payload?.type === 'json' ? e!.payload.data : null]);
}

/** The sessions holding syncer status events. */
export const statusSessions = (node: Node): Event[][] =>
  node.sessions.filter((s) => s.some((e) => e.type[0] === 'event' && e.type[1] === 'syncer'));

/** A status event's payload as its JSON text (what goes on the wire). */
export const payloadText = (e: Event): string | null => (e.payload?.type === 'json' ? jsonPayloadText(e.payload) : null);

export { lmdbConf };
export { captureLogger } from '../helpers/logger.ts';

/** Log lines as `<level> <logger>: <message> <fields as JSON>`, for matching. */
export const logLines = (lines: CapturedLine[]): string[] =>
  lines.map((l) => `${l.level} ${l.logger}: ${l.message} ${JSON.stringify(l.fields)}`);

/** A discovery whose list the test changes. */
export class SettablePeers implements PeerDiscovery {
  #peers: SyncerPeer[] = [];
  #onPeers: ((peers: readonly SyncerPeer[]) => void) | null = null;

  watch(onPeers: (peers: readonly SyncerPeer[]) => void): () => void {
    this.#onPeers = onPeers;
    onPeers(this.#peers);
    return () => (this.#onPeers = null);
  }

  set(peers: SyncerPeer[]): void {
    this.#peers = peers;
    this.#onPeers?.(peers);
  }
}

/** Counts, per server id, the events registered through it (what a Syncer client received). */
export function counting(backend: Backend, counts: Map<number, number>): Backend {
  return wrapBackend(backend, {
    register(events) {
      for (const e of events) counts.set(e.id.server, (counts.get(e.id.server) ?? 0) + 1);
      return backend.register(events);
    },
  });
}

/** `backend` with some of its methods replaced. */
export function wrapBackend(backend: Backend, overrides: Partial<Backend>): Backend {
  return {
    register: (events) => backend.register(events),
    getLastEventId: (serverId) => backend.getLastEventId(serverId),
    query: (data) => backend.query(data),
    queryFlushed: (eventId) => backend.queryFlushed(eventId),
    flush: () => backend.flush(),
    onFlushed: (cb) => backend.onFlushed(cb),
    close: () => backend.close(),
    ...overrides,
  };
}

/** Holds every register until `open()`: a Syncer client whose storage does not keep up. */
export function gated(backend: Backend): { backend: Backend; open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    open,
    backend: wrapBackend(backend, {
      async register(events) {
        await gate;
        return backend.register(events);
      },
    }),
  };
}

/**
 * A TCP proxy in front of `target` (host:port of a chatter address): `cut()` drops every current
 * connection; `cutAfter` drops a connection once that many bytes went from the server to the client;
 * `stallAfter` stops passing them there instead, leaving the connection open.
 */
export async function startProxy(target: string, opts: { cutAfter?: number; stallAfter?: number } = {}): Promise<{
  address: string; connections: number; cut(): void; close(): Promise<void>; cutAfter: number | undefined;
}> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const state = {
    address: '', connections: 0, cutAfter: opts.cutAfter,
    cut() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      state.cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = net.createServer((client) => {
    state.connections += 1;
    const upstream = net.connect({ host: hostname, port: Number(port) });
    sockets.add(client).add(upstream);
    let forwarded = 0;
    const limit = state.cutAfter ?? opts.stallAfter;
    upstream.on('data', (chunk: Buffer) => {
      forwarded += chunk.length;
      if (limit !== undefined && forwarded > limit) {
        client.write(chunk.subarray(0, Math.max(0, chunk.length - (forwarded - limit))));
        if (state.cutAfter !== undefined) {
          client.destroy();
          upstream.destroy();
        } else {
          upstream.pause();
        }
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.on('error', () => undefined);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.address = `tcp+sbs://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  proxies.push(state);
  return state;
}

const proxies: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});
