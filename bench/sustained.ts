// Memory under sustained writes (issue 13, item 5): our server (runServer, LMDB, flush_period 1)
// in a child process takes `--rate` events/s of `--size`-byte JSON events (batches of 100, sent
// without waiting for responses, paced every 10 ms over 4 connections) for `--seconds`; every
// second the child reports its RSS (anonymous and file-backed), its JS heap and off-heap buffers,
// and how many events it has flushed. Prints the samples' summary per minute and a verdict.
//
//   npm run bench:sustained -- [--rate 50000] [--size 1024] [--seconds 300]
//                              [--flush-period 1] [--heap-limit-mb N] [--max-pending-mib N]
//                              [--memory-limit-mib N] [--json out.json]
//
// --heap-limit-mb runs the server with --max-old-space-size=N (the issue saw a 256 MB cap die).
// --memory-limit-mib puts the server's process in a memory cgroup of its own with that limit
// (page cache included), when this machine lets the bench make one (root, cgroup v1 or v2): the
// file-backed part of the RSS is the database's pages that LMDB's map shows, and under a limit the
// kernel takes them back instead of the process failing. Without a cgroup the bench says so.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectEventer, type EventerClient } from '../src/eventer/client.ts';
import type { RegisterEvent } from '../src/common/types.ts';
import { jsonPayloadFromText, pythonJsonText } from '../src/common/json-payload.ts';
import { runServer } from '../src/server/run-server.ts';
import { silentLogger, type Logger } from '../src/common/logger.ts';
import { fmt } from '../src/bench/stats.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '50000' },
    size: { type: 'string', default: '1024' },
    seconds: { type: 'string', default: '300' },
    'flush-period': { type: 'string', default: '1' },
    'heap-limit-mb': { type: 'string' },
    'max-pending-mib': { type: 'string' },
    'memory-limit-mib': { type: 'string' },
    json: { type: 'string' },
    serve: { type: 'boolean', default: false },
  },
});

interface Sample {
  t: number;
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  flushed: number;
}

const BATCH = 100;
const CONNECTIONS = 4;
const TICK_MS = 10;

if (args.serve) await serve();
else await main();

/** The child: the server, and a line per second about its memory. */
async function serve(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hat-sustained-'));
  let flushed = 0;
  const logger = (name: string): Logger => ({
    ...silentLogger(name),
    debug(message, fields) {
      if (message === 'flushed') flushed += Number(fields?.['events'] ?? 0);
    },
    warning: (message, fields) => process.stderr.write(`${name}: ${message} ${JSON.stringify(fields ?? {})}\n`),
    error: (message, fields) => process.stderr.write(`${name}: ${message} ${JSON.stringify(fields ?? {})}\n`),
    isEnabled: () => true,
    child: (suffix) => logger(`${name}.${suffix}`),
  });
  const server = await runServer({
    backend: {
      module: 'lmdb', db_path: path.join(dir, 'events.db'), max_db_size: 1024 ** 3, flush_period: Number(args['flush-period']),
      conditions: [], latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
      ...(args['max-pending-mib'] === undefined ? {} : { max_pending_bytes: Number(args['max-pending-mib']) * 1024 ** 2 }),
    },
    engine: { server_id: 1, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
  }, { logger: logger('hat.event') });
  const status = (): Record<string, number> => {
    const text = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) / 1024;
    const mem = process.memoryUsage();
    return { rssMiB: kb('VmRSS'), anonMiB: kb('RssAnon'), fileMiB: kb('RssFile'), heapUsedMiB: mem.heapUsed / 2 ** 20, externalMiB: mem.external / 2 ** 20, flushed };
  };
  process.stdout.write(`READY ${server.addresses.eventer[0]} ${v8.getHeapStatistics().heap_size_limit}\n`);
  const timer = setInterval(() => process.stdout.write(`SAMPLE ${JSON.stringify(status())}\n`), 1000);
  process.stdin.resume();
  process.stdin.on('end', () => {
    clearInterval(timer);
    void server.close().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/** The server's process in a new memory cgroup limited to `mib` (v2's memory.max or v1's limit_in_bytes). */
function memoryCgroup(pid: number, mib: number): { description: string; remove(): void } | null {
  const bytes = String(mib * 1024 ** 2);
  const tries: [string, string][] = [['/sys/fs/cgroup', 'memory.max'], ['/sys/fs/cgroup/memory', 'memory.limit_in_bytes']];
  const problems: string[] = [];
  for (const [root, file] of tries) {
    if (!existsSync(path.join(root, file === 'memory.max' ? 'cgroup.controllers' : 'memory.limit_in_bytes'))) continue;
    const dir = path.join(root, `hat-event-ts-sustained-${pid}`);
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, file), bytes);
      writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      return {
        description: `the server runs in memory cgroup ${dir} with ${file} = ${mib} MiB (page cache included)`,
        remove: () => rmdirSync(dir),
      };
    } catch (err) {
      problems.push(`${dir}: ${(err as Error).message}`);
    }
  }
  console.log(`no memory cgroup could be made, the server runs without a limit (${problems.join('; ') || 'no cgroup file system'})`);
  return null;
}

async function main(): Promise<void> {
  const rate = Number(args.rate);
  const size = Number(args.size);
  const seconds = Number(args.seconds);
  const heapLimit = args['heap-limit-mb'];
  console.log(`sustained writes: ${fmt(rate)} events/s of ${size}-byte JSON payloads for ${seconds} s, flush_period ${args['flush-period']}` +
    `${heapLimit ? `, server heap capped at ${heapLimit} MB` : ''}; node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...(heapLimit ? [`--max-old-space-size=${heapLimit}`] : []), '--import', 'tsx', self, '--serve',
    '--flush-period', args['flush-period']!, ...(args['max-pending-mib'] === undefined ? [] : ['--max-pending-mib', args['max-pending-mib']])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const limit = args['memory-limit-mib'] === undefined ? null : memoryCgroup(child.pid!, Number(args['memory-limit-mib']));
  if (limit !== null) console.log(limit.description);
  const samples: Sample[] = [];
  let started = 0;
  const { address, heapLimitBytes } = await new Promise<{ address: string; heapLimitBytes: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const ready = /^READY (\S+) (\d+)/.exec(line);
        if (ready) resolve({ address: ready[1]!, heapLimitBytes: Number(ready[2]) });
        if (line.startsWith('SAMPLE ') && started > 0) samples.push({ t: (performance.now() - started) / 1000, ...JSON.parse(line.slice(7)) as Omit<Sample, 't'> });
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal})`)));
  });
  let died: string | null = null;
  child.once('exit', (code, signal) => (died = `exited ${code ?? signal}`));

  const clients: EventerClient[] = await Promise.all(Array.from({ length: CONNECTIONS }, () => connectEventer(address)));
  const text = 'x'.repeat(Math.max(0, size - 40));
  const batches: RegisterEvent[][] = Array.from({ length: 16 }, (_, b) => Array.from({ length: BATCH }, (_, i) => ({
    type: ['sustained', String((b * BATCH + i) % 1000)], sourceTimestamp: null,
    // The text made once: the load generator's CPU goes to the protocol, not to JSON.
    payload: jsonPayloadFromText(pythonJsonText({ value: b * BATCH + i, quality: 'good', text })),
  })));
  // A connection that closes (say the server refused it) ends the run: sending on would count
  // events that never arrive.
  let lost: string | null = null;
  let ending = false;
  for (const [k, client] of clients.entries()) {
    void client.closed.then(() => {
      if (lost === null && !ending) lost = `connection ${k} closed at ${fmt((performance.now() - started) / 1000, 1)} s: ${client.failure?.message ?? 'no reason given'}`;
    });
  }
  let sent = 0;
  started = performance.now();
  const end = started + seconds * 1000;
  let next = 0;
  let reported = 0;
  while (performance.now() < end && died === null && lost === null) {
    // Whatever the schedule owes by now, in batches of 100, spread over the connections.
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent + BATCH <= due) {
      void clients[next % CONNECTIONS]!.register(batches[next % batches.length]!).catch(() => undefined);
      next++;
      sent += BATCH;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    if (samples.length >= reported + 60) {
      reported = samples.length;
      report(samples[samples.length - 1]!, sent);
    }
  }
  const sentSeconds = (performance.now() - started) / 1000;
  // Until it has flushed all it got (or 30 s more), so the last figures include the backlog.
  const settleEnd = performance.now() + 30_000;
  while (died === null && lost === null && performance.now() < settleEnd && (samples[samples.length - 1]?.flushed ?? 0) < sent) await new Promise((resolve) => setTimeout(resolve, 200));
  ending = true;
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.end();
  if (died === null) await exited;
  limit?.remove();

  const last = samples[samples.length - 1];
  const max = (key: keyof Sample): number => Math.max(...samples.map((s) => s[key]));
  console.log(`\nsent ${fmt(sent)} events in ${fmt(sentSeconds, 1)} s (${fmt(sent / sentSeconds)}/s); flushed ${fmt(last?.flushed ?? 0)}` +
    `${died ? `; the server ${died}` : ''}${lost ? `; stopped early: ${lost}` : ''}`);
  console.log('| minute | RSS MiB max (anon / file) | JS heap used MiB max | external MiB max | flushed events/s |');
  console.log('|---|---|---|---|---|');
  for (let m = 0; m * 60 < samples.length; m++) {
    const part = samples.slice(m * 60, (m + 1) * 60);
    const top = part.reduce((a, b) => (b.rssMiB > a.rssMiB ? b : a));
    const rateOf = (part[part.length - 1]!.flushed - (m === 0 ? 0 : samples[m * 60 - 1]!.flushed)) / part.length;
    console.log(`| ${m + 1} | ${fmt(top.rssMiB)} (${fmt(top.anonMiB)} / ${fmt(top.fileMiB)}) | ${fmt(Math.max(...part.map((s) => s.heapUsedMiB)))} | ` +
      `${fmt(Math.max(...part.map((s) => s.externalMiB)))} | ${fmt(rateOf)} |`);
  }
  console.log(`\npeak RSS ${fmt(max('rssMiB'))} MiB; peak JS heap used ${fmt(max('heapUsedMiB'))} MiB of a ${fmt(heapLimitBytes / 2 ** 20)} MiB heap limit`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ rate, size, seconds, heapLimitMb: heapLimit ?? null, sent, samples, died, lost }, null, 2));
}

function report(last: Sample, sent: number): void {
  console.log(`t=${fmt(last.t)} s: RSS ${fmt(last.rssMiB)} MiB (anon ${fmt(last.anonMiB)}, file ${fmt(last.fileMiB)}), heap ${fmt(last.heapUsedMiB)} MiB, ` +
    `external ${fmt(last.externalMiB)} MiB; sent ${fmt(sent)}, flushed ${fmt(last.flushed)}`);
}
