// Eventer throughput over real TCP on 127.0.0.1 (the bench command's harness, src/bench/), plus
// an SBS codec micro-benchmark.
//
//   npm run bench:eventer -- [--address tcp+sbs://host:port] [--server-pid PID]
//                            [--backend memory|lmdb] [--flush-period S] [--only cells,clients,flushed]
//                            [--seconds 2] [--repeat 3] [--clients 100] [--events 1000000] [--json out.json]
//
// Without --address it starts our server in a child process (runServer: the memory backend, or
// LMDB in a temporary folder with --flush-period, default 1) so its RSS is measured apart from
// the load generator; a fresh one for every run, so no run measures a store grown by the earlier
// ones. Tables (--only picks; default cells):
//   cells    one connection (the bench command's harness, src/bench/): `waited` = register-and-wait
//            (one request in flight), `pipelined`; batches of 1, 10, 100 events; plus the SBS codec;
//   clients  --clients connections (100), each registering one event with response, one request
//            at a time: requests/s and latency (with LMDB and --flush-period 0: durable, each
//            response after its commit, which the server groups: group commit);
//   flushed  --events (1M) in batches of 100, pipelined (32 requests in flight per connection)
//            over 1, 8 and 64 connections, timed until every event is flushed: until the last
//            response with --flush-period 0, else until the server reports the last flush.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectEventer, type EventerClient } from '../src/eventer/client.ts';
import { SbsReader } from '../src/sbs/reader.ts';
import { SbsWriter } from '../src/sbs/writer.ts';
import { readEvents, writeEvents } from '../src/sbs/event-codec.ts';
import { readMsgRegisterReq, writeMsgRegisterReq } from '../src/sbs/eventer-messages.ts';
import type { Event, RegisterEvent } from '../src/common/types.ts';
import { runServer } from '../src/server/run-server.ts';
import { silentLogger, type Logger } from '../src/common/logger.ts';
import { runBench, type BenchOptions, type CellResult } from '../src/bench/harness.ts';
import { benchEvents, type BenchMode } from '../src/bench/load.ts';
import { processRssBytes } from '../src/bench/process-stats.ts';
import { markdownTable } from '../src/bench/report.ts';
import { fmt, percentile } from '../src/bench/stats.ts';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string' },
    'server-pid': { type: 'string' },
    seconds: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string' },
    serve: { type: 'string' },
    backend: { type: 'string', default: 'memory' },
    'flush-period': { type: 'string', default: '1' },
    only: { type: 'string', default: 'cells' },
    clients: { type: 'string', default: '100' },
    events: { type: 'string', default: '1000000' },
  },
});
const backendName = args.backend === 'lmdb' ? 'lmdb' : 'memory';
const flushPeriod = Number(args['flush-period']);

const WARM_UP_SECONDS = 0.5;

/** `n` events numbered from `seq`, 64 bytes of JSON payload each (the harness's events). */
function registerEvents(n: number, seq: number): RegisterEvent[] {
  return benchEvents(0, n, seq, 64);
}

function codecBench(seconds: number): { encodePerSec: number; decodePerSec: number; notifyEncodePerSec: number; notifyDecodePerSec: number } {
  const reg = registerEvents(100, 0);
  const events: Event[] = reg.map((e, i) => ({ ...e, id: { server: 1, session: 5, instance: i + 1 }, timestamp: { s: 1700000000, us: i } }));
  const time = (f: () => void): number => {
    let n = 0;
    const end = performance.now() + seconds * 500;
    const start = performance.now();
    while (performance.now() < end) {
      for (let i = 0; i < 50; i++) f();
      n += 50;
    }
    return (n * 100) / ((performance.now() - start) / 1000);
  };
  const w1 = new SbsWriter(16384);
  writeMsgRegisterReq(w1, reg);
  const regBytes = w1.finish().slice();
  const w2 = new SbsWriter(16384);
  writeEvents(w2, events);
  const notifyBytes = w2.finish().slice();
  return {
    encodePerSec: time(() => writeMsgRegisterReq(new SbsWriter(8192), reg)),
    decodePerSec: time(() => readMsgRegisterReq(new SbsReader(regBytes))),
    notifyEncodePerSec: time(() => writeEvents(new SbsWriter(8192), events)),
    notifyDecodePerSec: time(() => readEvents(new SbsReader(notifyBytes))),
  };
}

interface Child {
  child: ChildProcess;
  address: string;
  /** events the server reported flushed so far */
  flushed(): number;
  /** resolves once the server reported at least `n` events flushed */
  waitFlushed(n: number): Promise<void>;
}

async function startChild(): Promise<Child> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--serve', 'tcp+sbs://127.0.0.1:0',
    '--backend', backendName, '--flush-period', String(flushPeriod)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let flushed = 0;
  let waiting: { n: number; resolve: () => void } | null = null;
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const ready = /^READY (\S+)/.exec(line);
        if (ready) resolve(ready[1]!);
        const reported = /^FLUSHED (\d+)/.exec(line);
        if (reported) flushed = Number(reported[1]);
      }
      if (waiting !== null && flushed >= waiting.n) {
        waiting.resolve();
        waiting = null;
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    child, address,
    flushed: () => flushed,
    waitFlushed: (n) => (flushed >= n ? Promise.resolve() : new Promise((resolve) => (waiting = { n, resolve }))),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.end();
  await exited;
}

interface ClientsResult { requestsPerSec: number; p50: number; p99: number; max: number; rssMiB: number }

/** `n` connections, each registering one event with response, one request at a time. */
async function runClients(address: string, n: number, seconds: number, pid: number | null): Promise<ClientsResult> {
  const clients = await Promise.all(Array.from({ length: n }, () => connectEventer(address)));
  const latencies: number[] = [];
  let measuring = false;
  let end = performance.now() + WARM_UP_SECONDS * 1000;
  const loop = async (client: EventerClient, k: number): Promise<void> => {
    const events = registerEvents(1, k);
    while (performance.now() < end) {
      const t0 = performance.now();
      await client.registerWithResponse(events);
      if (measuring) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(clients.map(loop));
  measuring = true;
  end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(clients.map(loop));
  const elapsed = (performance.now() - start) / 1000;
  const rssMiB = pid === null ? NaN : processRssBytes(pid) / 2 ** 20;
  await Promise.all(clients.map((c) => c.close()));
  return { requestsPerSec: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: Math.max(...latencies), rssMiB };
}

const FLUSHED_BATCH = 100;
const FLUSHED_IN_FLIGHT = 32;

/**
 * `total` events in batches of 100 spread over `connections`, each with 32 requests in flight;
 * seconds until the server reported all of them flushed (besides its own STARTED and CONNECTED).
 */
async function runFlushed(started: Child, connections: number, total: number): Promise<{ seconds: number; rssMiB: number }> {
  const clients = await Promise.all(Array.from({ length: connections }, () => connectEventer(started.address)));
  const ownEvents = 1 + connections; // STARTED, and CONNECTED per client
  await started.waitFlushed(ownEvents);
  const prepared = Array.from({ length: 16 }, (_, k) => registerEvents(FLUSHED_BATCH, k * FLUSHED_BATCH));
  let next = 0;
  const requests = Math.ceil(total / FLUSHED_BATCH);
  const start = performance.now();
  const sender = async (client: EventerClient): Promise<void> => {
    while (next < requests) {
      const events = prepared[next++ % prepared.length]!;
      const results = await client.registerWithResponse(events);
      if (results[0] === null) throw new Error('event refused');
    }
  };
  await Promise.all(clients.flatMap((client) => Array.from({ length: FLUSHED_IN_FLIGHT }, () => sender(client))));
  await started.waitFlushed(ownEvents + requests * FLUSHED_BATCH);
  const seconds = (performance.now() - start) / 1000;
  const rssMiB = processRssBytes(started.child.pid!) / 2 ** 20;
  await Promise.all(clients.map((c) => c.close()));
  return { seconds, rssMiB };
}

function spread(values: number[], digits = 0): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${fmt(sorted[Math.floor(sorted.length / 2)]!, digits)} (${fmt(sorted[0]!, digits)}-${fmt(sorted[sorted.length - 1]!, digits)})`;
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const repeat = Number(args.repeat);
  const only = new Set(args.only!.split(','));
  // Our server is started afresh for every run of every cell: a store grown by the earlier cells
  // would make later ones measure its growth (memory backend: its GC) instead.
  const external = args.address;
  const withServer = async <T>(run: (address: string, pid: number | null, started: Child | null) => Promise<T>): Promise<T> => {
    const started = external === undefined ? await startChild() : null;
    const pid = started ? (started.child.pid ?? null) : args['server-pid'] ? Number(args['server-pid']) : null;
    try {
      return await run(started?.address ?? (external as string), pid, started);
    } finally {
      if (started) await stopChild(started.child);
    }
  };
  const server = external ?? `ours (${backendName === 'lmdb' ? `LMDB, flush_period ${flushPeriod}` : 'memory backend'}, no modules, child process)`;
  console.log(`eventer benchmark: server ${server}; node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const json: Record<string, unknown> = { address: external ?? null, backend: backendName, flushPeriod, seconds, repeat };

  if (only.has('cells')) {
    const cells: CellResult[] = [];
    for (const mode of ['waited', 'pipelined'] as BenchMode[]) {
      for (const batch of [1, 10, 100]) {
        const cell: CellResult = { mode, batch, connections: 1, runs: [] };
        for (let r = 0; r < repeat; r++) {
          const runs = await withServer(async (address, pid) => {
            const options: BenchOptions = {
              address, modes: [mode], batches: [batch], connections: [1],
              durationSeconds: seconds, warmUpSeconds: WARM_UP_SECONDS, payloadBytes: 64, repeat: 1, threads: 1, serverPid: pid,
            };
            return (await runBench(options))[0]!.runs;
          });
          cell.runs.push(...runs);
        }
        cells.push(cell);
      }
    }
    const codec = codecBench(seconds);
    console.log(`\none connection, ${repeat} runs x ${seconds} s per cell`);
    console.log(markdownTable(cells));
    console.log('\nSBS codec (100-event messages, one thread)');
    console.log('| operation | events/s |');
    console.log('|---|---|');
    console.log(`| encode MsgRegisterReq | ${fmt(codec.encodePerSec)} |`);
    console.log(`| decode MsgRegisterReq | ${fmt(codec.decodePerSec)} |`);
    console.log(`| encode MsgNotify | ${fmt(codec.notifyEncodePerSec)} |`);
    console.log(`| decode MsgNotify | ${fmt(codec.notifyDecodePerSec)} |`);
    Object.assign(json, { cells, codec });
  }

  if (only.has('clients')) {
    const n = Number(args.clients);
    const runs: ClientsResult[] = [];
    for (let r = 0; r < repeat; r++) runs.push(await withServer((address, pid) => runClients(address, n, seconds, pid)));
    console.log(`\n${n} clients, each registering 1 event with response, one request at a time; ${repeat} runs x ${seconds} s`);
    console.log('| requests/s median (min-max) | p50 ms | p99 ms | max ms | server RSS MiB |');
    console.log('|---|---|---|---|---|');
    console.log(`| ${spread(runs.map((c) => c.requestsPerSec))} | ${spread(runs.map((c) => c.p50), 2)} | ${spread(runs.map((c) => c.p99), 2)} | ` +
      `${fmt(Math.max(...runs.map((c) => c.max)), 1)} | ${fmt(Math.max(...runs.map((c) => c.rssMiB)))} |`);
    json.clients = { n, runs };
  }

  if (only.has('flushed')) {
    if (external !== undefined) throw new Error('--only flushed needs our own server (it reports its flushes)');
    const total = Number(args.events);
    const rows: { connections: number; runs: { seconds: number; rssMiB: number }[] }[] = [];
    for (const connections of [1, 8, 64]) {
      const runs: { seconds: number; rssMiB: number }[] = [];
      for (let r = 0; r < repeat; r++) runs.push(await withServer((_address, _pid, started) => runFlushed(started!, connections, total)));
      rows.push({ connections, runs });
    }
    console.log(`\n${fmt(total)} events, batches of ${FLUSHED_BATCH}, ${FLUSHED_IN_FLIGHT} requests in flight per connection, timed until all are flushed; ${repeat} runs`);
    console.log('| connections | events/s median (min-max) | seconds median | server RSS MiB |');
    console.log('|---|---|---|---|');
    for (const { connections, runs } of rows) {
      console.log(`| ${connections} | ${spread(runs.map((x) => total / x.seconds))} | ${spread(runs.map((x) => x.seconds), 2)} | ${fmt(Math.max(...runs.map((x) => x.rssMiB)))} |`);
    }
    json.flushed = { total, rows };
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(json, null, 2));
}

/** Tells the parent how many events the server has flushed (its debug 'flushed' lines), and passes warnings on. */
function flushReporter(): Logger {
  let flushed = 0;
  const make = (name: string): Logger => ({
    ...silentLogger(name),
    debug(message, fields) {
      if (message !== 'flushed') return;
      flushed += Number(fields?.['events'] ?? 0);
      process.stdout.write(`FLUSHED ${flushed}\n`);
    },
    warning: (message, fields) => process.stderr.write(`${name} warning: ${message} ${JSON.stringify(fields ?? {})}\n`),
    error: (message, fields) => process.stderr.write(`${name} error: ${message} ${JSON.stringify(fields ?? {})}\n`),
    isEnabled: () => true,
    child: (suffix) => make(`${name}.${suffix}`),
  });
  return make('hat.event');
}

if (args.serve !== undefined) {
  // Child mode: our server (runServer) with the chosen backend and no modules.
  const dir = backendName === 'lmdb' ? mkdtempSync(path.join(os.tmpdir(), 'hat-eventer-bench-')) : null;
  const backend = dir === null ? { module: 'memory' } : {
    module: 'lmdb', db_path: path.join(dir, 'events.db'), max_db_size: 1024 ** 3, flush_period: flushPeriod,
    conditions: [], latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
  };
  const server = await runServer({ backend, engine: { server_id: 1, modules: [] }, eventer_server: { address: args.serve } }, { logger: flushReporter() });
  process.stdout.write(`READY ${server.addresses.eventer[0]}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }));
} else {
  await main();
}
