// A running server's metrics and health over real HTTP (Node's fetch), with the real LMDB backend,
// a module in its own thread and a real eventer client: the counters move by exactly what was
// registered; /healthz turns 503 while another process holds LMDB's write lock (so no flush can
// commit) and 200 again once it lets go; without metrics_server nothing more listens.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runServer, type RunningServer } from '../../src/server/run-server.ts';
import { MIN_MAP_SIZE } from '../../src/backends/lmdb/environment.ts';
import type { ServerConf } from '../../src/config/server-conf.ts';
import { defaultServerConf } from '../../src/config/default.ts';
import { silentLogger } from '../../src/server/logger.ts';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import type { RegisterEvent } from '../../src/common/types.ts';
import { holdLmdbWriteTransaction } from '../helpers/hold-lmdb-write.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const COUNTDOWN = path.join(here, '..', 'engine', 'fixtures', 'countdown.ts');

const servers: RunningServer[] = [];
const clients: EventerClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(edit: (conf: ServerConf) => void): Promise<{ server: RunningServer; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-metrics-'));
  dirs.push(dir);
  const conf = defaultServerConf();
  conf.eventer_server.address = 'tcp+sbs://127.0.0.1:0';
  conf.backend['max_db_size'] = 16 * 1024 * 1024;
  edit(conf);
  const server = await runServer(conf, { baseDir: dir, logger: silentLogger() });
  servers.push(server);
  return { server, dir };
}

async function connect(server: RunningServer): Promise<EventerClient> {
  const client = await connectEventer(server.addresses.eventer[0]!, { subscriptions: [['*']] });
  clients.push(client);
  return client;
}

/** The value of one sample line, e.g. `hat_event_events_total{source_type="eventer"}`. */
async function sample(server: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.addresses.metrics!}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no sample ${name} in:\n${text}`);
  return Number(line.slice(name.length + 1));
}

async function samples(server: RunningServer, names: string[]): Promise<number[]> {
  return Promise.all(names.map((name) => sample(server, name)));
}

async function healthz(server: RunningServer): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.addresses.metrics!}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until<T>(what: string, get: () => Promise<T>, ok: (value: T) => boolean, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(value)} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const events = (n: number, data: unknown = null): RegisterEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: ['test', String(i)], sourceTimestamp: null, payload: data === null ? null : { type: 'json', data: data as never } }));

describe('metrics_server', () => {
  it('counts exactly what was registered: sessions and events by source type, latency, rounds, notifications, flushes', async () => {
    const { server } = await start((conf) => {
      conf.metrics_server = { address: 'http://127.0.0.1:0' };
      conf.backend['flush_period'] = 0.05;
      conf.engine.modules = [{ module: COUNTDOWN, workers: 1 }];
    });
    expect(server.addresses.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = await connect(server);
    await client.registerWithResponse(events(1)); // past this client's CONNECTED
    await client.receive();
    const label = `module 0 (${COUNTDOWN})`;
    const names = [
      'hat_event_events_total{source_type="eventer"}',
      'hat_event_sessions_total{source_type="eventer"}',
      'hat_event_events_total{source_type="module"}',
      'hat_event_sessions_total{source_type="module"}',
      'hat_event_register_duration_seconds_count{source_type="eventer"}',
      `hat_event_module_round_duration_seconds_count{module="${label}"}`,
      'hat_event_eventer_notifications_total',
      `hat_event_module_failures_total{module="${label}"}`,
    ];
    const before = await samples(server, names);

    // 5 + 2 events without payload (no module output), then one countdown from 2: the module
    // answers 1, then 0 (two module events, three rounds in that session)
    await client.registerWithResponse(events(5));
    await client.registerWithResponse(events(2));
    await client.registerWithResponse(events(1, 2));
    for (let i = 0; i < 3; i++) await client.receive();

    const after = await samples(server, names);
    expect(after.map((value, i) => value - before[i]!)).toEqual([8, 3, 2, 0, 3, 5, 3, 0]);
    expect(await sample(server, 'hat_event_engine_queue_length')).toBe(0);
    expect(await sample(server, 'hat_event_eventer_connections')).toBe(1);
    expect(await sample(server, `hat_event_module_threads{module="${label}"}`)).toBe(1);
    expect(await sample(server, 'hat_event_eventer_slow_readers_dropped_total')).toBe(0);
    // every event gets flushed: nothing waits, the flushes were timed
    await until('pending events', () => sample(server, 'hat_event_backend_pending_events'), (n) => n === 0);
    expect(await sample(server, 'hat_event_backend_flush_duration_seconds_count')).toBeGreaterThan(0);
    // max_db_size 16 MiB: the map is still MIN_MAP_SIZE of address space, the file far smaller
    expect(await sample(server, 'hat_event_lmdb_map_size_bytes')).toBe(MIN_MAP_SIZE);
    expect(await sample(server, 'hat_event_backend_writable')).toBe(1);
    const used = await sample(server, 'hat_event_lmdb_used_bytes');
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(16 * 1024 * 1024);
  });

  it('/healthz: 200, then 503 saying why while no flush can commit (another process holds the write lock), then 200', async () => {
    const { server, dir } = await start((conf) => {
      conf.metrics_server = { address: 'http://127.0.0.1:0', max_flush_delay: 0.5 };
      conf.backend['flush_period'] = 0.05;
    });
    const client = await connect(server);
    await client.registerWithResponse(events(1));
    await until('healthy', () => healthz(server), (h) => h.status === 200 && h.body['pending_events'] === 0);
    expect((await healthz(server)).body).toEqual({ status: 'ok', reasons: [], engine: 'running', pending_events: 0, unflushed_seconds: 0, writable: true });

    const writer = await holdLmdbWriteTransaction(path.join(dir, 'data', 'events.db'));
    await client.registerWithResponse(events(3));
    const unhealthy = await until('503', () => healthz(server), (h) => h.status === 503);
    expect(unhealthy.body).toMatchObject({ status: 'unhealthy', engine: 'running', pending_events: 3, writable: true });
    expect(unhealthy.body['reasons']).toEqual([
      expect.stringMatching(/^the backend has not flushed for \d+\.\d s: 3 registered events wait for their flush to disk \(max_flush_delay 0\.5 s\)$/),
    ]);
    expect(unhealthy.body['unflushed_seconds']).toBeGreaterThan(0.5);
    expect(await sample(server, 'hat_event_backend_pending_events')).toBe(3);
    expect(await sample(server, 'hat_event_backend_unflushed_age_seconds')).toBeGreaterThan(0.5);

    await writer.release();
    const healthy = await until('200 again', () => healthz(server), (h) => h.status === 200);
    expect(healthy.body).toMatchObject({ status: 'ok', reasons: [], pending_events: 0 });
  });

  it('is off by default: no metrics address, and the eventer is the only thing listening', async () => {
    expect(defaultServerConf().metrics_server).toBeUndefined();
    const listening = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const idle = listening();
    const { server } = await start(() => {});
    expect(server.addresses.metrics).toBeNull();
    expect(listening()).toBe(idle + 1);
    const { server: measured } = await start((conf) => {
      conf.metrics_server = { address: 'http://127.0.0.1:0' };
    });
    expect(listening()).toBe(idle + 3); // the first server's eventer, this one's eventer and metrics server
    await measured.close();
    await server.close();
    expect(listening()).toBe(idle);
  });
});
