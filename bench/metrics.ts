// What the metrics cost: the eventer benchmark (the bench command's harness) against the real
// server command, with `metrics_server` off and on, alternating within one run (off, on, then on,
// off, ...) so drift on a shared machine falls on both sides alike. While on, /metrics is scraped
// every second (Prometheus' usual interval is 15 s: this is the harsher case).
//
//   npm run bench:metrics -- [--backend memory|lmdb] [--seconds 3] [--repeat 6] [--json out.json]
//
// Every run starts a fresh server process (no run measures a store grown by the one before).
// Cells: pipelined batches of 1 and 100 events on one connection (requests/s and events/s bound),
// waited batches of 1 on 8 connections (latency).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { runBench, type CellRun, type CellSpec } from '../src/bench/harness.ts';
import { fmt, median } from '../src/bench/stats.ts';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'memory' },
    seconds: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '6' },
    json: { type: 'string' },
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

async function startServer(metricsOn: boolean): Promise<Started> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-bench-metrics-'));
  const backend = args.backend === 'lmdb'
    ? {
      module: 'lmdb', db_path: './events.db', max_db_size: 1024 * 1024 * 1024, flush_period: 1,
      conditions: [], latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
    }
    : { module: 'memory' };
  const conf = {
    log: { version: 1, level: 'INFO', format: 'json' },
    backend,
    engine: { server_id: 1, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    ...(metricsOn && { metrics_server: { address: 'http://127.0.0.1:0' } }),
  };
  await writeFile(path.join(dir, 'server.yaml'), stringify(conf));
  const child = spawn(process.execPath, [BIN, 'server', '--conf', path.join(dir, 'server.yaml')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const addresses = await new Promise<{ eventer: string; metrics: string | null }>((resolve, reject) => {
    let err = '';
    let metrics: string | null = null;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      for (const line of err.split('\n')) {
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

/** One measured run of `cell`, scraping /metrics every second while it lasts when metrics are on. */
async function measure(cell: CellSpec, metricsOn: boolean): Promise<{ run: CellRun; scrapes: number }> {
  const server = await startServer(metricsOn);
  let scrapes = 0;
  const scraper = server.metrics === null ? null : setInterval(() => {
    void fetch(`${server.metrics!}/metrics`).then((res) => res.text()).then(() => scrapes++);
  }, 1000);
  try {
    const [result] = await runBench({
      address: server.eventer, modes: [cell.mode], batches: [cell.batch], connections: [cell.connections],
      durationSeconds: Number(args.seconds), warmUpSeconds: 0.5, payloadBytes: 64, repeat: 1, threads: 1,
      serverPid: server.child.pid ?? null,
    });
    return { run: result!.runs[0]!, scrapes };
  } finally {
    if (scraper) clearInterval(scraper);
    await stopServer(server);
  }
}

interface Row {
  cell: CellSpec;
  off: CellRun[];
  on: CellRun[];
}

const spread = (xs: number[]): string => {
  const m = median(xs);
  return `${fmt(m)} ±${fmt(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100, 1)}%`;
};

function table(rows: Row[]): string {
  const lines = [
    '| cell | figure | metrics off (median ±half-range) | metrics on | on / off |',
    '|---|---|---|---|---|',
  ];
  for (const { cell, off, on } of rows) {
    const name = `${cell.mode} batch ${cell.batch} × ${cell.connections} conn`;
    const figures: [string, (r: CellRun) => number][] = cell.mode === 'waited'
      ? [['requests/s', (r) => r.requestsPerSec], ['latency p50 µs', (r) => r.latencyMs!.p50 * 1000], ['latency p99 µs', (r) => r.latencyMs!.p99 * 1000], ['server CPU %', (r) => r.serverCpuPercent ?? NaN]]
      : [['events/s', (r) => r.eventsPerSec], ['server CPU %', (r) => r.serverCpuPercent ?? NaN]];
    for (const [label, of] of figures) {
      const a = off.map(of);
      const b = on.map(of);
      lines.push(`| ${name} | ${label} | ${spread(a)} | ${spread(b)} | ${fmt(median(b) / median(a), 3)} |`);
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
  for (let r = 0; r < repeat; r++) {
    for (const row of rows) {
      // ABBA: off first on even repetitions, on first on odd ones
      for (const metricsOn of r % 2 === 0 ? [false, true] : [true, false]) {
        const { run, scrapes: n } = await measure(row.cell, metricsOn);
        (metricsOn ? row.on : row.off).push(run);
        scrapes += n;
        process.stderr.write(`rep ${r + 1}/${repeat} ${row.cell.mode} b${row.cell.batch} c${row.cell.connections} metrics ${metricsOn ? 'on ' : 'off'}: ${fmt(run.eventsPerSec)} events/s\n`);
      }
    }
  }
  const loadAfter = os.loadavg();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  console.log(`metrics cost: ${args.backend} backend, ${repeat} repetitions × ${args.seconds} s per cell and state, alternating; ${scrapes} scrapes of /metrics while on`);
  console.log(`machine: ${machine}; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(table(rows));
  if (args.json) {
    await writeFile(args.json, `${JSON.stringify({ backend: args.backend, repeat, seconds: Number(args.seconds), machine, loadBefore, loadAfter, rows }, null, 2)}\n`);
  }
}

await main();
