// The attacks of the edge-hardening issue against a real server process (the CLI, LMDB backend,
// default limits), each on a fresh process, while a well-behaved client registers throughout.
// Prints one row per attack: peak memory, whether the server died, the good client's failures,
// and what the attack itself saw.
//
//   npx tsx bench/attacks.ts [--root DIR] [--label NAME] [--repeat 3] [--only name,name] [--json out.json]
//
// --root runs the server of another checkout (e.g. a `git worktree` of an older commit, with a
// node_modules symlink) so the same attacks measure before and after; the configuration uses only
// keys every version accepts, so each runs with its own defaults.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  badFrames, connectionFlood, goodClient, memoryOf, memorySampler, MiB, partialFrames, slowReaders,
} from './attack-clients.ts';
import { connectEventer } from '../src/eventer/client.ts';
import type { RegisterEvent } from '../src/common/types.ts';
import { fmt, median } from '../src/bench/stats.ts';

const { values: args } = parseArgs({
  options: {
    root: { type: 'string', default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..') },
    label: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const root = path.resolve(args.root!);
const label = args.label ?? path.basename(root);

// ---- a server process of `root` ----

interface ServerProcess {
  address: string;
  pid: number;
  /** stderr lines and bytes so far */
  logLines(): number;
  logBytes(): number;
  /** the exit code once it has exited, else null */
  exitCode(): number | null;
  stop(): Promise<void>;
}

async function startServer(openFiles?: number): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hat-attack-'));
  const conf = {
    type: 'event',
    log: { version: 1, level: 'INFO', format: 'json' },
    backend: {
      module: 'lmdb', db_path: path.join(dir, 'events.db'), max_db_size: 1024 * MiB, flush_period: 1, conditions: [],
      latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
    },
    engine: { server_id: 1, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
  };
  const confFile = path.join(dir, 'server.json');
  writeFileSync(confFile, JSON.stringify(conf));
  const bin = path.join(root, 'bin', 'hat-event-ts.mjs');
  const [command, argv] = openFiles === undefined
    ? [process.execPath, [bin, 'server', '--conf', confFile]]
    : ['/bin/sh', ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, bin, 'server', '--conf', confFile]];
  const child: ChildProcess = spawn(command, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HAT_EVENT_TS_FROM_SOURCE: '1' } });
  let lines = 0;
  let bytes = 0;
  let partial = '';
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) => child.on('close', (code) => {
    exitCode = code ?? -1;
    resolve();
  }));
  const address = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      bytes += Buffer.byteLength(chunk);
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      lines += parts.length;
      for (const line of parts) {
        const m = /"msg":"eventer server listening".*"address":"([^"]+)"/.exec(line);
        if (m) resolve(m[1]!);
      }
    });
    void exited.then(() => reject(new Error(`server exited with ${exitCode} before listening`)));
  });
  return {
    address, pid: child.pid!,
    logLines: () => lines, logBytes: () => bytes, exitCode: () => exitCode,
    async stop() {
      if (exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- the attacks ----

/** One measured run: numbers for the table, notes for what the attack saw. */
interface Outcome {
  baseMiB: number;
  peakMiB: number;
  /** the anonymous part (heap, buffers): without the pages of the mapped database file */
  peakAnonMiB: number;
  died: boolean;
  goodOk: number;
  goodFailed: number;
  note: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const small = (): RegisterEvent[] => [{ type: ['good'], sourceTimestamp: null, payload: { type: 'json', data: 1 } }];

/** Runs `attack` against a fresh server while a good client registers; the memory peak is sampled. */
async function measure(
  attack: (server: ServerProcess) => Promise<string>,
  opts: { openFiles?: number; goodEvents?: () => RegisterEvent[]; goodIntervalMs?: number } = {},
): Promise<Outcome> {
  const server = await startServer(opts.openFiles);
  try {
    const good = goodClient(server.address, opts.goodEvents ?? small, opts.goodIntervalMs ?? 20);
    await sleep(500);
    const base = memoryOf(server.pid).rss;
    const sampler = memorySampler(server.pid);
    let note: string;
    try {
      note = await attack(server);
    } catch (err) {
      note = `attack failed: ${String(err)}`;
    }
    await sleep(300);
    const peak = sampler.stop();
    const tally = await good.stop();
    return { baseMiB: base, peakMiB: peak.rss, peakAnonMiB: peak.anon, died: server.exitCode() !== null, goodOk: tally.ok, goodFailed: tally.failed, note };
  } finally {
    await server.stop();
  }
}

function slowReaderRun(n: number): Promise<Outcome> {
  const payload = { type: 'binary' as const, data: new Uint8Array(512 * 1024) };
  return measure(async ({ address }) => {
    const readers = await slowReaders(address, n);
    await sleep(8000);
    const closed = await readers.closedByServer();
    readers.release();
    return `${closed}/${n} readers closed`;
  }, { goodEvents: () => [{ type: ['big'], sourceTimestamp: null, payload }], goodIntervalMs: 10 });
}

const ATTACKS: Record<string, { what: string; run(): Promise<Outcome> }> = {
  partial: {
    what: '16 connections x 60 MiB of a claimed 64 MiB frame',
    run: () => measure(async ({ address }) => {
      const held = await partialFrames(address, 16, 64 * MiB - 16, 60 * MiB);
      await sleep(1000);
      const closed = await held.closedByServer();
      held.release();
      return `${closed}/16 attackers closed`;
    }),
  },
  slow: {
    what: '8 subscribers that never read; a 512 KiB event every 10 ms for 8 s',
    run: () => slowReaderRun(8),
  },
  'slow-control': {
    what: 'the same traffic with no subscriber (what the good client alone costs)',
    run: () => slowReaderRun(0),
  },
  connections: {
    what: '2000 connections at once, ulimit -n 1024',
    run: () => measure(async (server) => {
      const lines = server.logLines();
      const c = await connectionFlood(server.address, 2000, 20_000);
      return `${c.served} served, ${c.refused} refused, ${c.hung} hung; ${server.logLines() - lines} log lines`;
    }, { openFiles: 1024 }),
  },
  logs: {
    what: '9000 connections each sending a bad frame',
    run: () => measure(async (server) => {
      const [lines, bytes] = [server.logLines(), server.logBytes()];
      await badFrames(server.address, 9000);
      await sleep(200);
      return `${server.logLines() - lines} log lines, ${fmt((server.logBytes() - bytes) / 1024)} KiB`;
    }),
  },
  'deep-json': {
    what: 'payloads nested 1,000,000 and 100,000 deep, then a query filter nested 100,000 deep',
    run: () => measure(async ({ address }) => {
      const nested = (depth: number) => ({ type: 'json' as const, data: null, text: '['.repeat(depth) + ']'.repeat(depth) });
      const outcome = (e: unknown) => (e ? 'stored' : 'null');
      const client = await connectEventer(address);
      const stored = [];
      for (const depth of [1_000_000, 100_000]) {
        stored.push(await client.registerWithResponse([{ type: ['deep'], sourceTimestamp: null, payload: nested(depth) }])
          .then(([e]) => outcome(e), () => 'connection closed'));
      }
      const other = await connectEventer(address);
      const query = await other.query({ payload: nested(100_000) }).then((r) => `answered (${r.length} events)`, () => 'connection closed');
      await Promise.all([client.close(), other.close()]);
      return `register: ${stored.join(', ')}; query: ${query}`;
    }),
  },
  timestamps: {
    what: 'source timestamps with us = -1, 1e6, 2^31, -2^40 (one request each)',
    run: () => measure(async ({ address }) => {
      const client = await connectEventer(address);
      const results: string[] = [];
      for (const us of [-1, 1_000_000, 2 ** 31, -(2 ** 40)]) {
        const [e] = await client.registerWithResponse([{ type: ['odd'], sourceTimestamp: { s: 0, us }, payload: null }])
          .catch(() => [undefined]);
        results.push(e ? 'stored' : e === null ? 'null' : 'failed');
        await sleep(400);
      }
      await client.close().catch(() => undefined);
      return results.join(', ');
    }),
  },
};

// ---- the table ----

const only = args.only?.split(',');
const repeat = Number(args.repeat);
const rows: Record<string, unknown>[] = [];
console.log(`attacks against ${root} (${label}), ${repeat} run(s) each; memory: the server's RSS in MiB`);
console.log('| attack | runs | RSS before | peak RSS (median, min-max) | peak anon RSS | server died | good client failed/ok | what the attack saw |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, attack] of Object.entries(ATTACKS)) {
  if (only && !only.includes(name)) continue;
  const runs: Outcome[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await attack.run());
  const peaks = runs.map((r) => r.peakMiB);
  const row = {
    attack: name, what: attack.what, tree: label, runs: runs.length,
    baseMiB: median(runs.map((r) => r.baseMiB)), peakMiB: median(peaks), peakMinMiB: Math.min(...peaks), peakMaxMiB: Math.max(...peaks),
    peakAnonMiB: median(runs.map((r) => r.peakAnonMiB)),
    died: runs.filter((r) => r.died).length, goodFailed: runs.reduce((n, r) => n + r.goodFailed, 0), goodOk: runs.reduce((n, r) => n + r.goodOk, 0),
    notes: runs.map((r) => r.note),
  };
  rows.push(row);
  console.log(`| ${name}: ${attack.what} | ${row.runs} | ${fmt(row.baseMiB)} | ${fmt(row.peakMiB)} (${fmt(row.peakMinMiB)}-${fmt(row.peakMaxMiB)}) | ${fmt(row.peakAnonMiB)} | ` +
    `${row.died}/${row.runs} | ${row.goodFailed}/${row.goodOk} | ${[...new Set(row.notes)].join(' / ')} |`);
}
if (args.json) writeFileSync(args.json, JSON.stringify({ root, label, repeat, rows }, null, 2));
