// Syncer benchmark: how fast a standby catches up, and how far behind it runs live.
//   (a) our LMDB register+flush: N events in 100-event sessions into a fresh file (flush_period
//       1 s, Hat's default), the same way as bench:lmdb (b); this file becomes server A's;
//   (b) catch-up: server A (runServer on that file, in a child process) streams its N events over
//       TCP to B (LMDB backend, engine, Syncer client: what a server runs to sync, in this process)
//       until B has flushed the last of them; target: (b) >= 50% of (a);
//   (c) live lag: a client registers a steady load on A through the eventer; for each event, the
//       time from its registration on A (its timestamp) to B's flush of it; p50/p99.
// Usage: npm run bench:syncer -- [--events 1000000] [--repeat 3] [--rate 1000] [--seconds 10]
//                                [--flush 0.1] [--json out.json]
//   --rate/--seconds: the live load (events/s, in 10-event sessions) and its length;
//   --flush: the flush period of A and B during (c) (the lag is mostly waiting for flushes).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openLmdbBackend, type LmdbBackend } from '../src/backends/lmdb/backend.ts';
import type { LmdbBackendConf } from '../src/backends/lmdb/conf.ts';
import { compareEventIds } from '../src/common/event-id.ts';
import type { Event, EventId, RegisterEvent } from '../src/common/types.ts';
import { createEngine } from '../src/engine/index.ts';
import { connectEventer } from '../src/eventer/client.ts';
import { runServer } from '../src/server/run-server.ts';
import { createSyncerClient } from '../src/syncer/client.ts';
import { staticPeers } from '../src/syncer/peers.ts';
import { fmt, median, percentile } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    flush: { type: 'string', default: '0.1' },
    json: { type: 'string' },
    serve: { type: 'string' },
    'serve-flush': { type: 'string' },
  },
});

const SESSION = 100;
const TYPES = 1000;
const T0 = 1_700_000_000;
const SERVER_A = 1;

function conf(dbPath: string, flushPeriod: number): LmdbBackendConf {
  return {
    db_path: dbPath,
    max_db_size: 4 * 1024 ** 3,
    flush_period: flushPeriod,
    conditions: [],
    latest: { subscriptions: [['*']] },
    ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
  };
}

function makeEvent(i: number): Event {
  return {
    id: { server: SERVER_A, session: Math.floor(i / SESSION) + 1, instance: (i % SESSION) + 1 },
    type: ['bench', String(i % TYPES)],
    timestamp: { s: T0 + Math.floor(i / 1000), us: (i % 1000) * 1000 },
    sourceTimestamp: { s: T0 + Math.floor(i / 1000), us: 0 },
    payload: { type: 'json', data: { value: i, quality: 'good' } },
  };
}

const tmpDirs: string[] = [];
function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-syncer-bench-'));
  tmpDirs.push(dir);
  return path.join(dir, 'events.db');
}

/** (a) register + flush through the backend; yields to the event loop between sessions. Events/s. */
async function registerAndFlush(dbPath: string, n: number): Promise<{ rate: number; last: EventId }> {
  const backend = await openLmdbBackend(conf(dbPath, 1), { cleanup: false });
  const start = performance.now();
  for (let from = 0; from < n; from += SESSION) {
    const events: Event[] = [];
    for (let i = from; i < Math.min(from + SESSION, n); i++) events.push(makeEvent(i));
    if ((await backend.register(events))[0] === null) throw new Error('event rejected');
    await new Promise((resolve) => setImmediate(resolve));
  }
  await backend.flush();
  const rate = n / ((performance.now() - start) / 1000);
  await backend.close();
  return { rate, last: makeEvent(n - 1).id };
}

interface ServerA {
  child: ChildProcess;
  eventer: string;
  syncer: string;
  stop(): Promise<void>;
}

/** Server A: runServer on `dbPath` in a child process (its own CPU), Syncer and eventer on free ports. */
async function startA(dbPath: string, flushPeriod: number): Promise<ServerA> {
  const self = fileURLToPath(import.meta.url);
  // Profiling the bench (`node --cpu-prof --cpu-prof-dir=D --import tsx bench/syncer.ts`) profiles A too.
  const profiling = process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', self, '--serve', dbPath, '--serve-flush', String(flushPeriod)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /READY (\S+) (\S+)\n/.exec(out);
      if (line) resolve([line[1]!, line[2]!]);
    });
    child.once('exit', (code) => reject(new Error(`server A exited with ${code}`)));
  });
  return {
    child, eventer: ready[0]!, syncer: ready[1]!,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.stdin!.end();
    }),
  };
}

/** B as a server runs it to sync: LMDB, an engine for its status events, a Syncer client for A. */
async function startB(syncerA: string, flushPeriod: number, onFlushed: (events: Event[]) => void): Promise<{ stop(): Promise<void>; backend: LmdbBackend }> {
  const backend = await openLmdbBackend(conf(tempDb(), flushPeriod), { cleanup: false });
  backend.onFlushed(onFlushed);
  const engine = await createEngine({ server_id: 2, modules: [] }, backend);
  const client = createSyncerClient(2, backend, engine, staticPeers([{ serverId: SERVER_A, address: syncerA }]), { reconnectDelay: 1 });
  return {
    backend,
    async stop() {
      await client.close();
      await engine.close();
      await backend.close();
    },
  };
}

/** (b) A streams its file to a fresh B; events/s from B's start until B flushed `last`. */
async function catchUp(dbPath: string, n: number, last: EventId): Promise<number> {
  const a = await startA(dbPath, 1);
  let done!: () => void;
  const caughtUp = new Promise<void>((resolve) => (done = resolve));
  const start = performance.now();
  const b = await startB(a.syncer, 1, (events) => {
    const tail = events[events.length - 1]!.id;
    if (tail.server === SERVER_A && compareEventIds(tail, last) >= 0) done();
  });
  await caughtUp;
  const rate = n / ((performance.now() - start) / 1000);
  await b.stop();
  await a.stop();
  return rate;
}

/** (c) a steady load on A; the lag of each event from its registration on A to B's flush (ms). */
async function liveLag(rate: number, seconds: number, flushPeriod: number): Promise<number[]> {
  const a = await startA(tempDb(), flushPeriod);
  const lags: number[] = [];
  let measuring = false;
  const b = await startB(a.syncer, flushPeriod, (events) => {
    if (!measuring) return;
    const now = Date.now();
    for (const e of events) if (e.type[0] === 'live') lags.push(now - (e.timestamp.s * 1000 + e.timestamp.us / 1000));
  });
  const client = await connectEventer(a.eventer);
  const batch = 10;
  const intervalMs = (1000 * batch) / rate;
  const session = (k: number): RegisterEvent[] => Array.from({ length: batch }, (_, i) => ({
    type: ['live', String((k * batch + i) % TYPES)], sourceTimestamp: null, payload: { type: 'json', data: { value: k * batch + i } },
  }));
  // One second of warm-up, then the measured run; sessions go out on a fixed schedule.
  const warmUpEnd = performance.now() + 1000;
  const end = warmUpEnd + seconds * 1000;
  let next = performance.now();
  for (let k = 0; performance.now() < end; k++) {
    if (!measuring && performance.now() >= warmUpEnd) measuring = true;
    void client.register(session(k));
    next += intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await new Promise((r) => setTimeout(r, 3 * flushPeriod * 1000 + 500)); // the last ones arrive
  await client.close();
  await b.stop();
  await a.stop();
  return lags;
}

interface Run { registerFlush: number; catchUp: number; ratio: number; lagP50: number; lagP99: number; lagMax: number; lagSamples: number }

async function main(): Promise<void> {
  const n = Number(args.events);
  const repeat = Number(args.repeat);
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);
  const flushPeriod = Number(args.flush);
  const loadBefore = os.loadavg();
  console.log(`syncer benchmark: ${fmt(n)} events (${SESSION}-event sessions), ${repeat} runs; live ${fmt(rate)} ev/s for ${seconds} s, flush_period ${flushPeriod} s on A and B`);
  console.log(`load average before: ${loadBefore.map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} CPUs)`);
  const runs: Run[] = [];
  for (let r = 0; r < repeat; r++) {
    const dbPath = tempDb();
    const base = await registerAndFlush(dbPath, n);
    const caught = await catchUp(dbPath, n, base.last);
    const lags = await liveLag(rate, seconds, flushPeriod);
    const run: Run = {
      registerFlush: base.rate, catchUp: caught, ratio: caught / base.rate,
      lagP50: percentile(lags, 0.5), lagP99: percentile(lags, 0.99), lagMax: percentile(lags, 1), lagSamples: lags.length,
    };
    runs.push(run);
    console.log(`run ${r + 1}: register+flush ${fmt(run.registerFlush)} ev/s, catch-up ${fmt(run.catchUp)} ev/s (${fmt(run.ratio * 100)}%), lag p50 ${fmt(run.lagP50)} ms p99 ${fmt(run.lagP99)} ms (${fmt(run.lagSamples)} events)`);
    for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = os.loadavg();
  const col = (pick: (r: Run) => number, digits = 0): string => {
    const xs = runs.map(pick);
    return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}-${fmt(Math.max(...xs), digits)})`;
  };
  console.log('');
  console.log('| measure | median (min-max) |');
  console.log('|---|---|');
  console.log(`| (a) LMDB register+flush, ev/s | ${col((r) => r.registerFlush)} |`);
  console.log(`| (b) catch-up A -> TCP -> B, ev/s | ${col((r) => r.catchUp)} |`);
  console.log(`| (b) / (a), % (target >= 50) | ${col((r) => r.ratio * 100)} |`);
  console.log(`| (c) live lag p50, ms | ${col((r) => r.lagP50)} |`);
  console.log(`| (c) live lag p99, ms | ${col((r) => r.lagP99)} |`);
  console.log(`| (c) live lag max, ms | ${col((r) => r.lagMax)} |`);
  console.log(`load average after: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
  if (args.json) {
    fs.writeFileSync(args.json, JSON.stringify({
      events: n, session: SESSION, repeat, live: { rate, seconds, flushPeriod }, loadBefore, loadAfter, cpus: os.cpus().length, runs,
    }, null, 2));
    console.log(`JSON written to ${args.json}`);
  }
}

if (args.serve !== undefined) {
  // Child mode: server A on the given file, until stdin closes.
  const server = await runServer({
    backend: { module: 'lmdb', ...conf(args.serve, Number(args['serve-flush'] ?? 1)) },
    engine: { server_id: SERVER_A, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    syncer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    log: { level: 'WARNING' },
  });
  process.stdout.write(`READY ${server.addresses.eventer[0]} ${server.addresses.syncer[0]}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
} else {
  await main();
}
