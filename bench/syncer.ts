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
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openLmdbBackend, type LmdbBackend } from '../src/backends/lmdb/backend.ts';
import { compareEventIds } from '../src/common/event-id.ts';
import type { Event, EventId, RegisterEvent } from '../src/common/types.ts';
import { createEngine } from '../src/engine/index.ts';
import { connectEventer } from '../src/eventer/client.ts';
import { runServer } from '../src/server/run-server.ts';
import { createSyncerClient } from '../src/syncer/client.ts';
import { staticPeers } from '../src/syncer/peers.ts';
import { fmt, median, percentile } from '../src/bench/stats.ts';
import { backendWrite, benchLmdbConf, makeEvent, removeTempDbs, SESSION, tempDb, TYPES } from './lmdb-data.ts';

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

const SERVER_A = 1; // makeEvent's server

interface ServerA {
  child: ChildProcess;
  eventer: string;
  syncer: string;
  /** A's CPU time (user + system, all its threads) since it was ready, in µs, and its exit */
  stop(): Promise<number>;
}

/** Server A: runServer on `dbPath` in a child process (its own CPU), Syncer and eventer on free ports. */
async function startA(dbPath: string, flushPeriod: number): Promise<ServerA> {
  const self = fileURLToPath(import.meta.url);
  // Profiling the bench (`node --cpu-prof --cpu-prof-dir=D --import tsx bench/syncer.ts`) profiles A too.
  const profiling = process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', self, '--serve', dbPath, '--serve-flush', String(flushPeriod)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const ready = await new Promise<string[]>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const line = /READY (\S+) (\S+)\n/.exec(out);
      if (line) resolve([line[1]!, line[2]!]);
    });
    child.once('exit', (code) => reject(new Error(`server A exited with ${code}`)));
  });
  return {
    child, eventer: ready[0]!, syncer: ready[1]!,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve(Number(/CPU (\S+)\n/.exec(out)?.[1] ?? NaN)));
      child.stdin!.end();
    }),
  };
}

/** B as a server runs it to sync: LMDB, an engine for its status events, a Syncer client for A. */
async function startB(syncerA: string, flushPeriod: number, onFlushed: (events: Event[]) => void): Promise<{ stop(): Promise<void>; backend: LmdbBackend }> {
  const backend = await openLmdbBackend(benchLmdbConf(tempDb('hat-syncer-bench-'), flushPeriod), { cleanup: false });
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

/**
 * (b) A streams its file to a fresh B; events/s from B's start until B flushed `last`, and the CPU
 * time both processes spent per event (what the machine's load does not change).
 */
async function catchUp(dbPath: string, n: number, last: EventId): Promise<{ rate: number; cpuA: number; cpuB: number }> {
  const a = await startA(dbPath, 1);
  const cpu = process.cpuUsage();
  let done!: () => void;
  const caughtUp = new Promise<void>((resolve) => (done = resolve));
  const start = performance.now();
  const b = await startB(a.syncer, 1, (events) => {
    const tail = events[events.length - 1]!.id;
    if (tail.server === SERVER_A && compareEventIds(tail, last) >= 0) done();
  });
  await caughtUp;
  const rate = n / ((performance.now() - start) / 1000);
  const { user, system } = process.cpuUsage(cpu);
  await b.stop();
  return { rate, cpuA: (await a.stop()) / n, cpuB: (user + system) / n };
}

/** (c) a steady load on A; the lag of each event from its registration on A to B's flush (ms). */
async function liveLag(rate: number, seconds: number, flushPeriod: number): Promise<number[]> {
  const a = await startA(tempDb('hat-syncer-bench-'), flushPeriod);
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

interface Run {
  registerFlush: number; catchUp: number; ratio: number;
  /** CPU µs per event: (a) this process; (b) A's and B's */
  cpuRegisterFlush: number; cpuA: number; cpuB: number;
  lagP50: number; lagP99: number; lagMax: number; lagSamples: number;
}

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
    const dbPath = tempDb('hat-syncer-bench-');
    const cpu = process.cpuUsage();
    const registerFlush = await backendWrite(dbPath, n, 1);
    const { user, system } = process.cpuUsage(cpu);
    const caught = await catchUp(dbPath, n, makeEvent(n - 1).id);
    const lags = await liveLag(rate, seconds, flushPeriod);
    const run: Run = {
      registerFlush, catchUp: caught.rate, ratio: caught.rate / registerFlush,
      cpuRegisterFlush: (user + system) / n, cpuA: caught.cpuA, cpuB: caught.cpuB,
      lagP50: percentile(lags, 0.5), lagP99: percentile(lags, 0.99), lagMax: percentile(lags, 1), lagSamples: lags.length,
    };
    runs.push(run);
    console.log(`run ${r + 1}: register+flush ${fmt(run.registerFlush)} ev/s, catch-up ${fmt(run.catchUp)} ev/s (${fmt(run.ratio * 100)}%; CPU µs/event ${fmt(run.cpuRegisterFlush, 1)} vs A ${fmt(run.cpuA, 1)} + B ${fmt(run.cpuB, 1)}), lag p50 ${fmt(run.lagP50)} ms p99 ${fmt(run.lagP99)} ms (${fmt(run.lagSamples)} events)`);
    removeTempDbs();
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
  console.log(`| (a) CPU per event, µs | ${col((r) => r.cpuRegisterFlush, 1)} |`);
  console.log(`| (b) CPU per event, A (sender), µs | ${col((r) => r.cpuA, 1)} |`);
  console.log(`| (b) CPU per event, B (receiver), µs | ${col((r) => r.cpuB, 1)} |`);
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
    backend: { module: 'lmdb', ...benchLmdbConf(args.serve, Number(args['serve-flush'] ?? 1)) },
    engine: { server_id: SERVER_A, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    syncer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    log: { level: 'WARNING' },
  });
  process.stdout.write(`READY ${server.addresses.eventer[0]} ${server.addresses.syncer[0]}\n`);
  const cpu = process.cpuUsage();
  process.stdin.resume();
  process.stdin.on('end', () => {
    const { user, system } = process.cpuUsage(cpu);
    process.stdout.write(`CPU ${user + system}\n`);
    void server.close().then(() => process.exit(0));
  });
} else {
  await main();
}
