// What the metrics cost: the eventer benchmark (the bench command's harness) against two server
// processes (the real server command) started side by side per cell, one with `metrics_server`
// and one without, loaded in turn in short windows (off, on, then on, off, ...), so the load of a
// shared machine falls on both alike and each pair of neighbouring windows gives a ratio. The one
// with metrics is scraped every second throughout (Prometheus' usual interval is 15 s).
//
//   npm run bench:metrics -- [--backend memory|dummy|lmdb] [--seconds 1.5] [--repeat 12] [--json out.json]
//                            [--instructions [--requests 3000]]
//
// Cells: pipelined batches of 1 and 100 events on one connection (requests/s and events/s bound),
// waited batches of 1 on 8 connections (latency).
//
// On a busy shared machine those windows vary far more than the few per cent in question, so
// `--instructions` also counts the work itself, which no other load changes: each server runs
// under valgrind's callgrind with counting switched on only around what is measured, and the
// server's main thread (where every metric is counted) is read for: an idle stretch (what runs
// on timers), a fixed number of waited register requests (less the idle rate over that time),
// and one scrape of /metrics. Needs valgrind; about a minute per server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { runBench, type CellRun, type CellSpec } from '../src/bench/harness.ts';
import { benchEvents } from '../src/bench/load.ts';
import { connectEventer, EncodedRegisterRequest } from '../src/eventer/client.ts';
import { fmt, median } from '../src/bench/stats.ts';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'memory' },
    seconds: { type: 'string', default: '1.5' },
    repeat: { type: 'string', default: '12' },
    json: { type: 'string' },
    instructions: { type: 'boolean', default: false },
    requests: { type: 'string', default: '3000' },
  },
});

const BIN = fileURLToPath(new URL('../bin/hat-event-ts.mjs', import.meta.url));
const CELLS: CellSpec[] = [
  { mode: 'pipelined', batch: 1, connections: 1 },
  { mode: 'pipelined', batch: 100, connections: 1 },
  { mode: 'waited', batch: 1, connections: 8 },
];

interface Started {
  child: ChildProcess;
  eventer: string;
  metrics: string | null;
  dir: string;
}

/** `wrap`: a command the server runs under (valgrind), its arguments before node's. */
async function startServer(metricsOn: boolean, wrap: string[] = []): Promise<Started> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-bench-metrics-'));
  const backend = args.backend === 'lmdb'
    ? {
      module: 'lmdb', db_path: './events.db', max_db_size: 1024 * 1024 * 1024, flush_period: 1,
      conditions: [], latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
    }
    : { module: args.backend };
  const conf = {
    log: { version: 1, level: 'INFO', format: 'json' },
    backend,
    engine: { server_id: 1, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    ...(metricsOn && { metrics_server: { address: 'http://127.0.0.1:0' } }),
  };
  await writeFile(path.join(dir, 'server.yaml'), stringify(conf));
  const command = [...wrap, process.execPath, BIN, 'server', '--conf', path.join(dir, 'server.yaml')];
  const child = spawn(command[0]!, command.slice(1), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const addresses = await new Promise<{ eventer: string; metrics: string | null }>((resolve, reject) => {
    let err = '';
    let metrics: string | null = null;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      for (const line of err.split('\n').slice(0, -1)) {
        if (!line.startsWith('{')) continue;
        const record = JSON.parse(line) as { msg: string; address?: string };
        if (record.msg === 'metrics server listening') metrics = record.address!;
        if (record.msg === 'eventer server listening') resolve({ eventer: record.address!, metrics });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${err}`)));
  });
  return { child, dir, ...addresses };
}

async function stopServer(started: Started): Promise<void> {
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  started.child.kill('SIGTERM');
  await exited;
  await rm(started.dir, { recursive: true, force: true });
}

/** One measured window of `cell` against `server`. */
async function measure(cell: CellSpec, server: Started): Promise<CellRun> {
  const [result] = await runBench({
    address: server.eventer, modes: [cell.mode], batches: [cell.batch], connections: [cell.connections],
    durationSeconds: Number(args.seconds), warmUpSeconds: 0.3, payloadBytes: 64, repeat: 1, threads: 1,
    serverPid: server.child.pid ?? null,
  });
  return result!.runs[0]!;
}

interface Counted {
  /** main-thread instructions per waited register request, less the idle rate over that time */
  perRequest: number;
  /** main-thread instructions per second with nothing to do (timers) */
  idlePerSecond: number;
  /** main-thread instructions of one GET /metrics (with metrics on) */
  perScrape: number | null;
}

/** One server under callgrind: what its main thread executes idle, per request and per scrape. */
async function countInstructions(metricsOn: boolean, requests: number): Promise<Counted> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-callgrind-'));
  const out = path.join(dir, 'callgrind.out');
  const server = await startServer(metricsOn, ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`]);
  const control = (...command: string[]): void => void execFileSync('callgrind_control', [...command, String(server.child.pid)], { stdio: 'ignore' });
  const counted = async (label: string, what: () => Promise<void>): Promise<number> => {
    control('-z');
    control('-i', 'on');
    const start = performance.now();
    await what();
    const seconds = (performance.now() - start) / 1000;
    control('-i', 'off');
    control('-d', label);
    return seconds;
  };
  const client = await connectEventer(server.eventer);
  const request = new EncodedRegisterRequest(benchEvents(0, 1, 0, 64));
  const load = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await client.registerWithResponse(request);
  };
  try {
    await load(2 * requests); // the JIT settles first
    const idleSeconds = await counted('idle', () => new Promise((resolve) => setTimeout(resolve, 5000)));
    const loadSeconds = await counted('load', () => load(requests));
    if (server.metrics !== null) await counted('scrape', async () => void (await (await fetch(`${server.metrics!}/metrics`)).text()));
    await client.close();
    await stopServer(server);
    // one file per dump and thread; the main thread's end in -01
    const totals = new Map<string, number>();
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('-01'))) {
      const text = await readFile(path.join(dir, name), 'utf8');
      const label = /^desc: Trigger: Client Request: (\S+)|^desc: Trigger: dump (\S+)/m.exec(text);
      const total = /^totals: (\d+)/m.exec(text);
      if (label && total) totals.set(label[1] ?? label[2]!, Number(total[1]));
    }
    const idlePerSecond = totals.get('idle')! / idleSeconds;
    return {
      idlePerSecond,
      perRequest: (totals.get('load')! - idlePerSecond * loadSeconds) / requests,
      perScrape: totals.get('scrape') ?? null,
    };
  } finally {
    server.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

function instructionTable(off: Counted[], on: Counted[]): string {
  const range = (xs: number[]): string => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
  const perRequestOff = median(off.map((c) => c.perRequest));
  const perScrape = median(on.map((c) => c.perScrape!));
  return [
    '| server main thread, instructions | metrics off, median (min–max) | metrics on | on / off |',
    '|---|---|---|---|',
    `| per waited register request (1 event) | ${range(off.map((c) => c.perRequest))} | ${range(on.map((c) => c.perRequest))} | ${fmt(median(on.map((c) => c.perRequest)) / perRequestOff, 3)} |`,
    `| per second idle (timers) | ${range(off.map((c) => c.idlePerSecond))} | ${range(on.map((c) => c.idlePerSecond))} | |`,
    `| one GET /metrics | | ${range(on.map((c) => c.perScrape!))} | = ${fmt(perScrape / perRequestOff)} requests |`,
  ].join('\n');
}

async function instructionsMain(): Promise<void> {
  const repeat = Number(args.repeat);
  const requests = Number(args.requests);
  const loadBefore = os.loadavg();
  const off: Counted[] = [];
  const on: Counted[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const metricsOn of r % 2 === 0 ? [false, true] : [true, false]) {
      const counted = await countInstructions(metricsOn, requests);
      (metricsOn ? on : off).push(counted);
      process.stderr.write(`rep ${r + 1}/${repeat} metrics ${metricsOn ? 'on ' : 'off'}: ${fmt(counted.perRequest)} instructions per request\n`);
    }
  }
  console.log(`metrics cost in instructions (callgrind): ${args.backend} backend, ${repeat} servers each way, ${requests} waited requests each`);
  console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (instruction counts do not depend on it)`);
  console.log(instructionTable(off, on));
  if (args.json) await writeFile(args.json, `${JSON.stringify({ backend: args.backend, repeat, requests, off, on }, null, 2)}\n`);
}

interface Row {
  cell: CellSpec;
  off: CellRun[];
  on: CellRun[];
}

const spread = (xs: number[], digits = 0): string => {
  const m = median(xs);
  return `${fmt(m, digits)} ±${fmt(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100, 1)}%`;
};

function table(rows: Row[]): string {
  const lines = [
    '| cell | figure | metrics off (median ±half-range) | metrics on | on / off |',
    '|---|---|---|---|---|',
  ];
  for (const { cell, off, on } of rows) {
    const name = `${cell.mode} batch ${cell.batch} × ${cell.connections} conn`;
    // server CPU time per event: the work done, less sensitive than throughput to what else runs
    const cpuPerEvent = (r: CellRun): number => ((r.serverCpuPercent ?? NaN) * 1e4) / r.eventsPerSec;
    const figures: [string, (r: CellRun) => number][] = cell.mode === 'waited'
      ? [['requests/s', (r) => r.requestsPerSec], ['latency p50 µs', (r) => r.latencyMs!.p50 * 1000], ['latency p99 µs', (r) => r.latencyMs!.p99 * 1000], ['server CPU µs/event', cpuPerEvent]]
      : [['events/s', (r) => r.eventsPerSec], ['server CPU µs/event', cpuPerEvent]];
    for (const [label, of] of figures) {
      const a = off.map(of);
      const b = on.map(of);
      const digits = label.startsWith('server CPU') ? 1 : 0;
      lines.push(`| ${name} | ${label} | ${spread(a, digits)} | ${spread(b, digits)} | ${fmt(median(b) / median(a), 3)} |`);
    }
    // the ratio of medians, and its spread over the pairs run side by side
    const pairs = off.map((r, i) => (cell.mode === 'waited' ? on[i]!.requestsPerSec / r.requestsPerSec : on[i]!.eventsPerSec / r.eventsPerSec));
    lines.push(`| ${name} | per-pair on/off | | | ${fmt(median(pairs), 3)} (${fmt(Math.min(...pairs), 3)}–${fmt(Math.max(...pairs), 3)}) |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const repeat = Number(args.repeat);
  const loadBefore = os.loadavg();
  const rows: Row[] = CELLS.map((cell) => ({ cell, off: [], on: [] }));
  let scrapes = 0;
  for (const row of rows) {
    const [off, on] = await Promise.all([startServer(false), startServer(true)]);
    const scraper = setInterval(() => {
      void fetch(`${on.metrics!}/metrics`).then((res) => res.text()).then(() => scrapes++);
    }, 1000);
    try {
      for (let r = 0; r < repeat; r++) {
        // ABBA: off first on even repetitions, on first on odd ones
        for (const metricsOn of r % 2 === 0 ? [false, true] : [true, false]) {
          const run = await measure(row.cell, metricsOn ? on : off);
          (metricsOn ? row.on : row.off).push(run);
          process.stderr.write(`${row.cell.mode} b${row.cell.batch} c${row.cell.connections} rep ${r + 1}/${repeat} metrics ${metricsOn ? 'on ' : 'off'}: ${fmt(run.eventsPerSec)} events/s\n`);
        }
      }
    } finally {
      clearInterval(scraper);
      await Promise.all([stopServer(off), stopServer(on)]);
    }
  }
  const loadAfter = os.loadavg();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  console.log(`metrics cost: ${args.backend} backend, ${repeat} windows × ${args.seconds} s per cell and state, alternating; ${scrapes} scrapes of /metrics`);
  console.log(`machine: ${machine}; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(table(rows));
  if (args.json) {
    await writeFile(args.json, `${JSON.stringify({ backend: args.backend, repeat, seconds: Number(args.seconds), machine, loadBefore, loadAfter, rows }, null, 2)}\n`);
  }
}

await (args.instructions ? instructionsMain() : main());
