// Queries against registrations (issue 17, section 1), our tree against a base tree in one run.
//   (a) a client registering one event with response at a time: p50/p99 with the server
//       otherwise idle, and while another client queries every stored event over and over;
//   (b) that big query's own time (client round trip, decoding included), alone;
//   (c) two clients each running the big query at once, against one after the other: once with
//       the clients decoding the answers (as an application would), once with the clients only
//       receiving the answer's bytes (raw: what the server itself does, the clients' decoding of
//       200,000 events each no longer competing for the same two cores);
//   (c0) the machine's ceiling for (c): two bare processes scanning the same store with lmdb-js
//       (every value copied out, nothing else: no server, no filter, no socket), at once against
//       one after the other, measured in the same run;
//   (d) backend level, in this process: a query by 10 event ids on stores of 100k and 1M
//       events, and where small queries run (main thread within its budget vs reader threads).
// Servers are real processes (each tree's bin/hat-event-ts.mjs, from its sources, LMDB with
// flush_period 1 s) on a copy of one store of --events events (100 types m.*.v); the trees are
// measured alternately, --repeat times. The query clients are child processes using our client.
// Usage: npm run bench:query -- --base DIR [--events 200000] [--seconds 5] [--repeat 3]
//        [--only a,d] [--json FILE]        (a includes b and c; DIR: a checkout with node_modules)
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectEventer, type EventerClient } from '../src/eventer/client.ts';
import { connect } from '../src/chatter/transport.ts';
import type { ChatterMessage } from '../src/chatter/connection.ts';
import { HAT_EVENT_TYPES } from '../src/sbs/hat-event-types.ts';
import { EVENTER_MODULE, EventerMsg } from '../src/sbs/eventer-messages.ts';
import { writeQueryData } from '../src/sbs/query-codec.ts';
import { openLmdbBackend, type LmdbBackend } from '../src/backends/lmdb/backend.ts';
import type { LmdbBackendConf } from '../src/backends/lmdb/conf.ts';
import type { Event, QueryData } from '../src/common/types.ts';
import { fmt, median, percentile } from '../src/bench/stats.ts';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    events: { type: 'string', default: '200000' },
    seconds: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string', default: 'a,d' },
    json: { type: 'string' },
    client: { type: 'string' },
    scanner: { type: 'string' },
  },
});

const self = fileURLToPath(import.meta.url);
const ours = path.resolve(path.dirname(self), '..');
const BIG_QUERY: QueryData = { types: [['m', '*']] };
const SESSION = 1000;
const T0 = 1_700_000_000;
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function storeEvent(i: number): Event {
  return {
    id: { server: 1, session: Math.floor(i / SESSION) + 1, instance: i + 1 },
    type: ['m', String(i % 100), 'v'],
    timestamp: { s: T0 + Math.floor(i / SESSION), us: i % SESSION },
    sourceTimestamp: null,
    payload: { type: 'json', data: { value: i, quality: 'good' } },
  };
}

function lmdbConf(dbPath: string): LmdbBackendConf {
  return {
    db_path: dbPath, max_db_size: 4 * 1024 ** 3, flush_period: 1, conditions: [],
    latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
  };
}

const tmpDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-query-bench-'));
  tmpDirs.push(dir);
  return dir;
}

/** A store of n events written through our backend (the file layout is the same in both trees). */
async function buildStore(n: number): Promise<string> {
  const dbPath = path.join(tempDir(), 'events.db');
  const backend = await openLmdbBackend(lmdbConf(dbPath), { cleanup: false });
  for (let from = 0; from < n; from += SESSION) {
    await backend.register(Array.from({ length: Math.min(SESSION, n - from) }, (_, k) => storeEvent(from + k)));
    if (from % 100_000 === 0) await backend.flush();
  }
  await backend.close();
  return dbPath;
}

// ---- servers and clients as processes ----

interface Server { child: ChildProcess; address: string }

async function startServer(tree: string, store: string): Promise<Server> {
  const dir = tempDir();
  const dbPath = path.join(dir, 'events.db');
  fs.copyFileSync(store, dbPath);
  const confPath = path.join(dir, 'server.json');
  fs.writeFileSync(confPath, JSON.stringify({
    type: 'event',
    log: { version: 1, root: { level: 'INFO' } },
    backend: { module: 'lmdb', ...lmdbConf(dbPath) },
    engine: { server_id: 1, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
  }));
  const child = spawn(process.execPath, [path.join(tree, 'bin/hat-event-ts.mjs'), 'server', '--conf', confPath], {
    env: { ...process.env, HAT_EVENT_TS_FROM_SOURCE: '1' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      const m = /"msg":"eventer server listening".*"address":"([^"]+)"/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server of ${tree} exited with ${code}`)));
  });
  return { child, address };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A query client in its own process: 'once' answers {ms}, 'loop' queries until 'stop' and answers {times}. */
class QueryClient {
  readonly #child: ChildProcess;
  readonly #replies: ((line: string) => void)[] = [];

  constructor(address: string) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', self, '--client', address], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: this.#child.stdout! }).on('line', (line) => this.#replies.shift()?.(line));
  }

  async send<T>(command: string): Promise<T> {
    const reply = new Promise<string>((resolve) => this.#replies.push(resolve));
    this.#child.stdin!.write(`${command}\n`);
    return JSON.parse(await reply) as T;
  }

  close(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin!.end();
    return exited.then(() => undefined);
  }
}

async function clientMain(address: string): Promise<void> {
  const client = await connectEventer(address);
  // A second connection that takes the answer's bytes without decoding them (`raw`); every raw
  // answer must be as long as the first, so a cut or failed answer is not timed as a fast one.
  const raw = await connect(address, { sbsTypes: HAT_EVENT_TYPES });
  let rawReply: ((msg: ChatterMessage) => void) | null = null;
  raw.setHandler((msg) => rawReply?.(msg));
  let answerBytes = 0;
  let looping: Promise<number[]> | null = null;
  let stopLoop = false;
  const timed = async (): Promise<number> => {
    const start = performance.now();
    const events = await client.query(BIG_QUERY);
    if (events.length === 0) throw new Error('the big query found nothing');
    return performance.now() - start;
  };
  const timedRaw = async (): Promise<number> => {
    const start = performance.now();
    const msg = await new Promise<ChatterMessage>((resolve) => {
      rawReply = resolve;
      raw.send(EVENTER_MODULE, EventerMsg.queryReq, (w) => writeQueryData(w, BIG_QUERY), { last: false });
    });
    if (msg.type !== EventerMsg.queryRes) throw new Error(`raw query answered by ${msg.type}`);
    if (answerBytes === 0) answerBytes = msg.data.length;
    else if (msg.data.length !== answerBytes) throw new Error(`raw answer of ${msg.data.length} bytes, earlier ${answerBytes}`);
    return performance.now() - start;
  };
  for await (const command of readline.createInterface({ input: process.stdin })) {
    if (command === 'once') process.stdout.write(`${JSON.stringify({ ms: await timed() })}\n`);
    if (command === 'raw') process.stdout.write(`${JSON.stringify({ ms: await timedRaw() })}\n`);
    if (command === 'loop') {
      stopLoop = false;
      looping = (async () => {
        const times: number[] = [];
        while (!stopLoop) times.push(await timed());
        return times;
      })();
      process.stdout.write('{}\n');
    }
    if (command === 'stop') {
      stopLoop = true;
      process.stdout.write(`${JSON.stringify({ times: await looping })}\n`);
    }
  }
  await raw.close();
  await client.close();
}

// ---- (a)-(c) ----

async function registerLatencies(client: EventerClient, seconds: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const start = performance.now();
    await client.registerWithResponse([{ type: ['r'], sourceTimestamp: null, payload: { type: 'json', data: times.length } }]);
    times.push(performance.now() - start);
  }
  return times;
}

interface TreeRun {
  idle: number[];
  loaded: number[];
  queryWhileLoaded: number[];
  queryAlone: number[];
  /** per trial: [one after the other, at once] */
  pairs: [number, number][];
  /** the same, answers received but not decoded */
  rawPairs: [number, number][];
  rawAlone: number[];
}

async function runTree(tree: string, store: string, seconds: number): Promise<TreeRun> {
  const server = await startServer(tree, store);
  const registrar = await connectEventer(server.address);
  const a = new QueryClient(server.address);
  const b = new QueryClient(server.address);
  try {
    // Warm-up: code optimised, reader threads started, pages in the cache.
    await registerLatencies(registrar, 0.5);
    for (let i = 0; i < 2; i++) await Promise.all([a.send('once'), b.send('once')]);
    const idle = await registerLatencies(registrar, seconds);
    await a.send('loop');
    const loaded = await registerLatencies(registrar, seconds);
    const { times: queryWhileLoaded } = await a.send<{ times: number[] }>('stop');
    const queryAlone: number[] = [];
    for (let i = 0; i < 5; i++) queryAlone.push((await a.send<{ ms: number }>('once')).ms);
    const pairsOf = async (command: string): Promise<[number, number][]> => {
      const pairs: [number, number][] = [];
      for (let i = 0; i < 3; i++) {
        let start = performance.now();
        await a.send(command);
        await b.send(command);
        const sequential = performance.now() - start;
        start = performance.now();
        await Promise.all([a.send(command), b.send(command)]);
        pairs.push([sequential, performance.now() - start]);
      }
      return pairs;
    };
    const pairs = await pairsOf('once');
    const rawAlone: number[] = [];
    for (let i = 0; i < 5; i++) rawAlone.push((await a.send<{ ms: number }>('raw')).ms);
    const rawPairs = await pairsOf('raw');
    return { idle, loaded, queryWhileLoaded, queryAlone, pairs, rawPairs, rawAlone };
  } finally {
    await Promise.all([a.close(), b.close()]);
    await registrar.close();
    await stop(server.child);
  }
}

// ---- (d) ----

type OpenBackend = (conf: LmdbBackendConf, options: object) => Promise<LmdbBackend>;

async function openFrom(tree: string): Promise<OpenBackend> {
  const module = (await import(path.join(tree, 'src/backends/lmdb/backend.ts'))) as { openLmdbBackend: OpenBackend };
  return module.openLmdbBackend;
}

/** Median ms of `q`, run until `maxIterations` or about a second and a half. */
async function timeQuery(backend: LmdbBackend, q: () => QueryData, expected: number, maxIterations = 200): Promise<number> {
  for (let i = 0; i < 5; i++) await backend.query(q());
  const times: number[] = [];
  const end = performance.now() + 1500;
  while (times.length < maxIterations && (times.length < 3 || performance.now() < end)) {
    const query = q();
    const start = performance.now();
    const result = await backend.query(query);
    times.push(performance.now() - start);
    if (result.length !== expected) throw new Error(`${JSON.stringify(query)}: ${result.length} results, expected ${expected}`);
  }
  return median(times);
}

/** `count` distinct events' ids (a repeated id is answered once: the count would be off). */
function randomIds(n: number, count: number): QueryData {
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(Math.random() * n));
  return { ids: [...picked].map((i) => storeEvent(i).id) };
}

async function backendLevel(trees: [string, string][]): Promise<Record<string, unknown>> {
  const sizes = [100_000, 1_000_000];
  const stores = [];
  for (const n of sizes) stores.push({ n, path: await buildStore(n) });
  const out: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const [name, tree] of trees) {
    const open = await openFrom(tree);
    const ids: number[] = [];
    for (const store of stores) {
      const backend = await open(lmdbConf(store.path), { cleanup: false });
      ids.push(await timeQuery(backend, () => randomIds(store.n, 10), 10, 50));
      await backend.close();
    }
    out[`ids_${name}`] = ids;
    rows.push([`query by 10 ids (${name})`, `${fmt(ids[0]!, 3)} ms`, `${fmt(ids[1]!, 3)} ms`]);
  }
  // Where small queries run: our tree, 1M store, main thread (by size) against every scan on readers.
  const placement: Record<string, number[]> = {};
  const kinds: [string, (k: number) => QueryData][] = [
    ['newest k', (k) => ({ maxResults: k })],
    ['newest k of one type', (k) => ({ types: [['m', '7', 'v']], maxResults: k })],
  ];
  for (const [label, options] of [['main thread within the budget', {}], ['reader thread', { mainThreadBudget: 0 }]] as const) {
    const backend = await openLmdbBackend(lmdbConf(stores[1]!.path), { cleanup: false, ...options });
    for (const [kind, make] of kinds) {
      const times: number[] = [];
      for (const k of [1, 10, 100, 256]) times.push(await timeQuery(backend, () => make(k), k));
      placement[`${kind}: ${label}`] = times;
      rows.push([`${kind}, k = 1 | 10 | 100 | 256: ${label}`, '', times.map((t) => fmt(t, 3)).join(' | ') + ' ms']);
    }
    await backend.close();
  }
  out.placement = placement;
  console.log('\n(d) backend level (median ms)                         100k store        1M store');
  for (const row of rows) console.log(`${row[0]!.padEnd(56)}${row[1]!.padEnd(18)}${row[2]}`);
  return out;
}

// ---- main ----

function spread(xs: number[], digits: number): string {
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
}

async function main(): Promise<void> {
  const base = args.base === undefined ? null : path.resolve(args.base);
  const trees: [string, string][] = base === null ? [['ours', ours]] : [['base', base], ['ours', ours]];
  const seconds = Number(args.seconds);
  const repeat = Number(args.repeat);
  const n = Number(args.events);
  const parts = new Set(args.only!.split(','));
  console.log(`query benchmark: node ${process.version}, ${os.cpus().length} cpus, load ${load()}; ` +
    `${fmt(n)} stored events, ${seconds} s per latency run, ${repeat} runs per tree; trees ${trees.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const json: Record<string, unknown> = { events: n, seconds, repeat, loadBefore: os.loadavg() };
  if (parts.has('a')) {
    const store = await buildStore(n);
    const runs = new Map<string, TreeRun[]>(trees.map(([name]) => [name, []]));
    const ceiling: number[] = [];
    for (let r = 0; r < repeat; r++) {
      for (const [name, tree] of trees) {
        runs.get(name)!.push(await runTree(tree, store, seconds));
        console.log(`run ${r + 1} ${name} done (load ${load()})`);
      }
      ceiling.push(median((await scanCeiling(store, 3)).map(([sequential, atOnce]) => atOnce / sequential)));
    }
    const metric = (name: string, f: (run: TreeRun) => number): number[] => runs.get(name)!.map(f);
    const rows: [string, (run: TreeRun) => number, number][] = [
      ['register-with-response p50 ms, server idle', (x) => percentile(x.idle, 0.5), 3],
      ['register-with-response p99 ms, server idle', (x) => percentile(x.idle, 0.99), 3],
      ['register-with-response p50 ms, another client querying', (x) => percentile(x.loaded, 0.5), 3],
      ['register-with-response p99 ms, another client querying', (x) => percentile(x.loaded, 0.99), 3],
      ['register-with-response max ms, another client querying', (x) => Math.max(...x.loaded), 1],
      ['big query ms (client round trip) during the registrations', (x) => median(x.queryWhileLoaded), 0],
      ['big query ms (client round trip), alone', (x) => median(x.queryAlone), 0],
      ['2 clients at once / one after the other', (x) => median(x.pairs.map(([s, c]) => c / s)), 2],
      ['big query ms, alone, answer received not decoded', (x) => median(x.rawAlone), 0],
      ['2 clients at once / one after the other, answers not decoded', (x) => median(x.rawPairs.map(([s, c]) => c / s)), 2],
    ];
    console.log(`\n(a)-(c) median over runs (min–max); load now ${load()}`);
    console.log(`| | ${trees.map(([name]) => name).join(' | ')} |`);
    console.log(`|---|${trees.map(() => '---').join('|')}|`);
    for (const [label, f, digits] of rows) console.log(`| ${label} | ${trees.map(([name]) => spread(metric(name, f), digits)).join(' | ')} |`);
    console.log(`| (c0) ceiling: 2 bare lmdb-js scanning processes at once / one after the other | ${spread(ceiling, 2)} |`);
    json.scanCeiling = ceiling;
    json.servers = Object.fromEntries(trees.map(([name]) => [name, Object.fromEntries(rows.map(([label, f]) => [label, metric(name, f)]))]));
  }
  if (parts.has('d')) json.backend = await backendLevel(trees);
  json.loadAfter = os.loadavg();
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(json, null, 2));
}

/** (c0) A bare scanner process: on each line on stdin, one scan of ORDERED_DATA; answers {ms}. */
async function scannerMain(dbPath: string): Promise<void> {
  const { open } = await import('lmdb');
  const root = open<Buffer, Buffer>({ path: dbPath, noSubdir: true, readOnly: true, maxDbs: 8 });
  const db = root.openDB<Buffer, Buffer>({ name: 'ORDERED_DATA', encoding: 'binary', keyEncoding: 'binary' });
  let out = new Uint8Array(1 << 20);
  const scan = (): void => {
    let at = 0;
    for (const { value } of db.getRange()) {
      if (at + value.length > out.length) {
        const bigger = new Uint8Array(out.length * 2);
        bigger.set(out.subarray(0, at));
        out = bigger;
      }
      out.set(value, at);
      at += value.length;
    }
  };
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === '') continue;
    const start = performance.now();
    scan();
    process.stdout.write(`${JSON.stringify({ ms: performance.now() - start })}\n`);
  }
  await root.close();
}

/** (c0): [one after the other, at once] ms per trial, two scanner processes on `store`. */
async function scanCeiling(store: string, trials: number): Promise<[number, number][]> {
  const kids = [0, 1].map(() => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--scanner', store], { stdio: ['pipe', 'pipe', 'inherit'] });
    const replies: (() => void)[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', () => replies.shift()?.());
    const scan = (): Promise<void> => new Promise((resolve) => {
      replies.push(resolve);
      child.stdin!.write('go\n');
    });
    return { child, scan };
  });
  try {
    for (let i = 0; i < 2; i++) await Promise.all(kids.map((k) => k.scan())); // warm-up
    const pairs: [number, number][] = [];
    for (let i = 0; i < trials; i++) {
      let start = performance.now();
      await kids[0]!.scan();
      await kids[1]!.scan();
      const sequential = performance.now() - start;
      start = performance.now();
      await Promise.all(kids.map((k) => k.scan()));
      pairs.push([sequential, performance.now() - start]);
    }
    return pairs;
  } finally {
    for (const { child } of kids) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    }
  }
}

if (args.scanner !== undefined) {
  await scannerMain(args.scanner);
} else if (args.client !== undefined) {
  await clientMain(args.client);
} else {
  try {
    await main();
  } finally {
    for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}
