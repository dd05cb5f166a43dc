// Syncer servers as real processes (`hat-event-ts server --conf ...`): LMDB in their own temp
// folder, eventer on a free port, Syncer server on a free port (or a fixed one, for peers that
// must know it before it starts), peers from `syncer_peers`. Reads go through the eventer.
import { expect } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { compareEventIds, eventIdKey } from '../../src/common/event-id.ts';
import type { Event, EventId, RegisterEvent } from '../../src/common/types.ts';
import { lmdbConf, spawnCli, tempDir, writeConf, type CliProcess, type LogLine } from './helpers.ts';

/** A port free right now (for servers that must be named as peers before they start). */
export { freePort } from '../helpers/event-server-member.ts';

export interface SyncerServerSpec {
  serverId: number;
  /** the Syncer server's port; 0 (default) = any free one, read from the log */
  syncerPort?: number;
  peers?: { server_id: number; address: string }[];
  flushPeriod?: number;
  /** loggers at DEBUG, e.g. 'hat.event.backend' for the 'flushed' lines */
  debug?: string[];
  synced_restart_engine?: boolean;
  /** restart on an existing folder */
  dir?: string;
}

export interface SyncerProcess {
  proc: CliProcess;
  dir: string;
  spec: SyncerServerSpec;
  eventer: string;
  syncer: string;
  /** SIGTERM and wait for the exit (code 0 expected) */
  stop(): Promise<void>;
}

const clients: EventerClient[] = [];

/** For afterEach, before cli helpers' cleanup(). */
export async function closeClients(): Promise<void> {
  readers.clear();
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
}

export async function connect(address: string): Promise<EventerClient> {
  const client = await connectEventer(address);
  clients.push(client);
  return client;
}

export async function startSyncerServer(spec: SyncerServerSpec): Promise<SyncerProcess> {
  const dir = spec.dir ?? await tempDir();
  const conf = lmdbConf({ flush_period: spec.flushPeriod ?? 0.1 });
  (conf['engine'] as Record<string, unknown>)['server_id'] = spec.serverId;
  (conf['log'] as Record<string, unknown>)['loggers'] = Object.fromEntries((spec.debug ?? []).map((name) => [name, { level: 'DEBUG' }]));
  (conf['backend'] as Record<string, unknown>)['max_db_size'] = 256 * 1024 * 1024;
  conf['syncer_server'] = { address: `tcp+sbs://127.0.0.1:${spec.syncerPort ?? 0}` };
  if (spec.peers) conf['syncer_peers'] = spec.peers;
  if (spec.synced_restart_engine !== undefined) conf['synced_restart_engine'] = spec.synced_restart_engine;
  const proc = spawnCli(['server', '--conf', await writeConf(dir, conf)], { cwd: dir });
  const eventer = await proc.address();
  const syncer = (await proc.waitForLog((l) => l.msg === 'syncer server listening'))['address'] as string;
  return {
    proc, dir, spec, eventer, syncer,
    async stop() {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toEqual({ code: 0, signal: null });
    },
  };
}

export const peerOf = (p: SyncerProcess): { server_id: number; address: string } => ({ server_id: p.spec.serverId, address: p.syncer });

/** One reading client per address: every eventer connection registers events of its own (CONNECTED, DISCONNECTED). */
const readers = new Map<string, Promise<EventerClient>>();

/** Every event of `serverId` that the server at `address` holds, in id order. */
export async function eventsOf(address: string, serverId: number): Promise<Event[]> {
  let reader = readers.get(address);
  if (reader === undefined) readers.set(address, (reader = connect(address)));
  const events = await (await reader).query({ serverId, order: 'ascending', maxResults: 10_000_000 });
  return events.sort((a, b) => compareEventIds(a.id, b.id));
}

export const idKeys = (events: Event[]): string[] => events.map((e) => eventIdKey(e.id));

/** Waits until every server holds the same events of `serverId` (at least `atLeast`, if given). */
export async function untilSame(servers: SyncerProcess[], serverId: number, ms = 30_000, atLeast?: EventId): Promise<Event[]> {
  const end = Date.now() + ms;
  for (;;) {
    const held = await Promise.all(servers.map((s) => eventsOf(s.eventer, serverId)));
    const keys = held.map((h) => idKeys(h).join(','));
    const last = held[0]!.at(-1)?.id;
    const far = atLeast === undefined || (last !== undefined && compareEventIds(last, atLeast) >= 0);
    if (far && keys.every((k) => k === keys[0])) return held[0]!;
    if (Date.now() > end) {
      throw new Error(`servers ${servers.map((s) => s.spec.serverId).join(', ')} do not hold the same events of ${serverId}: ${held.map((h) => h.length).join(' vs ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `sessions` sessions of `perSession` varied events registered through the eventer; the last id. */
export async function registerSessions(address: string, sessions: number, perSession: number, make: (session: number, count: number) => RegisterEvent[]): Promise<EventId> {
  const client = await connect(address);
  let last: EventId | undefined;
  for (let s = 0; s < sessions; s++) {
    const results = await client.registerWithResponse(make(s, perSession));
    last = results.at(-1)!.id;
  }
  await client.close();
  return last!;
}

/** Log lines of `proc` with this message. */
export const linesOf = (proc: CliProcess, msg: string): LogLine[] => proc.logs.filter((l) => l.msg === msg);

export const parseId = (text: string): EventId => {
  const [server, session, instance] = text.split('/').map(Number) as [number, number, number];
  return { server, session, instance };
};

/** The status events a server registered about the Syncer, as [type, payload] in id order. */
export async function statusOf(address: string, serverId: number): Promise<[string, unknown][]> {
  const events = await eventsOf(address, serverId);
  return events
    .filter((e) => e.type[0] === 'event' && e.type[1] === 'syncer')
    .map((e) => [e.type.join('/'), e.payload?.type === 'json' ? e.payload.data : null]);
}
