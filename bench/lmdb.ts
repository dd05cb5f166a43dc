// LMDB backend benchmark (issues 3 and 17). Prints a table and writes JSON.
//   (l) the ceiling: LMDB's own C tool mdb_load loading exactly the rows the backend wrote for 1M
//       events (its file, dumped with mdb_dump -a), then one fsync: mdb_load -a (sorted keys
//       appended) of LMDB 0.9.29 as lmdb-js builds it (compiled from node_modules/lmdb's sources
//       with cc), and Debian's lmdb-utils (apt-get install lmdb-utils; 0.9.24 has no -a and
//       makes a synced commit every 100 rows). A row whose tool is missing says so and is skipped;
//   (a) raw lmdb-js writing the rows the backend writes (Hat's seven sub-dbs and our type
//       index, SBS encoding included), one durable transaction per 1 s window as the backend;
//       (a0) the same with the 1M events made and SBS-encoded before the clock starts: what
//       lmdb-js itself takes to write these rows on this machine;
//   (b) the backend: register + flush in 100-event sessions, flush_period 1 s and 0;
//   (c) query latency on stores of 100k and 1M events (1000 event types, round robin):
//       latest 100 of one type, unique-type latest of 1000 types, a 1000-event time range;
//       both stores reopened and measured alternately over several runs (warm-up, GC first).
// Usage: npm run bench:lmdb -- [--full] [--only l,a,b,c] [--repeat N] [--runs N] [--json <file>]
//   default: (l)/(a)/(b 1 s) with 1M events, --repeat times each (3; Debian's mdb_load once),
//   (b 0 s) with 20k events (each register is an fsync), --full: (b 0 s) with 1M events as well
//   (takes many minutes); --runs: query runs (5).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { open } from 'lmdb';
import { openLmdbBackend, type LmdbBackend } from '../src/backends/lmdb/backend.ts';
import { encodeStoredEvents } from '../src/backends/lmdb/event-value.ts';
import { EVENT_ID_SIZE, ORDERED_KEY_SIZE, systemValue, TIMESTAMP_SIZE, writeEventId, writeTimestamp, writeU64 } from '../src/backends/lmdb/keys.ts';
import { typeHash } from '../src/backends/lmdb/type-index.ts';
import { pythonJsonText } from '../src/common/json-payload.ts';
import type { Event, QueryData } from '../src/common/types.ts';
import { fmt, median, percentile } from '../src/bench/stats.ts';
import { fileURLToPath } from 'node:url';
import { backendWrite, benchLmdbConf, makeEvent, removeTempDbs, SESSION, tempDb, TYPES, typeOf } from './lmdb-data.ts';

const args = process.argv.slice(2);
const full = args.includes('--full');
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1]! : path.join(os.tmpdir(), 'hat-lmdb-bench.json');
const BIG = 1_000_000;
const SMALL = 100_000;
const DURABLE_EVENTS = full ? BIG : 20_000;
const EMPTY = Buffer.alloc(0);

/**
 * (a) raw lmdb-js: exactly the rows the backend writes, in the same windows (a write
 * transaction every flush period, the next window encoded while the previous one commits),
 * with none of the backend's bookkeeping. Values are encoded per 100-event session into one
 * buffer and keys are written into one buffer per window, so it is an efficient baseline.
 */
async function rawWrite(n: number, periodMs = 1000, file = tempDb(), prepared: Prepared | null = null): Promise<number> {
  const root = open({ path: file, noSubdir: true, maxDbs: 8, mapSize: 4 * 1024 ** 3 });
  const db = (name: string) => root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
  const [system, latestData, latestType, orderedData, orderedCount, ref, typeIndex] =
    ['SYSTEM', 'LATEST_DATA', 'LATEST_TYPE', 'ORDERED_DATA', 'ORDERED_COUNT', 'REF', 'HAT_EVENT_TS_TYPE_INDEX'].map(db) as [ReturnType<typeof db>, ...ReturnType<typeof db>[]];
  const previousLatest: (Event | undefined)[] = [];
  let count = 0;
  const noProblem = (): null => null;

  const commitWindow = (events: Event[], values: Uint8Array[]): Promise<void> => {
    const lastOfType = new Map<number, number>();
    for (let i = 0; i < events.length; i++) lastOfType.set(typeRefOf(events[i]!), i);
    // u64 rows, then per event: ordered key, index key, event id, ordered or latest+ordered ref;
    // per type: its u64 key, and the previous latest event's id, ordered key and ref
    const perEvent = ORDERED_KEY_SIZE + (ORDERED_KEY_SIZE + 8) + EVENT_ID_SIZE + (1 + 8 + 1 + ORDERED_KEY_SIZE);
    const perType = 8 + EVENT_ID_SIZE + ORDERED_KEY_SIZE + (1 + ORDERED_KEY_SIZE);
    const bytes = Buffer.allocUnsafe(events.length * perEvent + lastOfType.size * perType + 64);
    let pos = 0;
    const take = (size: number): Buffer => bytes.subarray(pos, (pos += size));
    const u64 = (value: number): Buffer => {
      const b = take(8);
      writeU64(b, 0, value);
      return b;
    };
    const ordered = (event: Event): Buffer => {
      const b = take(ORDERED_KEY_SIZE);
      writeU64(b, 0, 1);
      writeTimestamp(b, 8, event.timestamp);
      writeEventId(b, 8 + TIMESTAMP_SIZE, event.id);
      return b;
    };
    const refTo = (key: Buffer, latest: number | null): Buffer => {
      const b = take((latest === null ? 0 : 9) + 1 + ORDERED_KEY_SIZE);
      let at = 0;
      if (latest !== null) {
        b[0] = 1;
        writeU64(b, 1, latest);
        at = 9;
      }
      b[at] = 3;
      key.copy(b, at + 1);
      return b;
    };
    const last = events[events.length - 1]!;
    const batch = root.batch(() => {
      for (const [typeRef, i] of lastOfType) {
        const event = events[i]!;
        void latestData.put(u64(typeRef), values[i] as Buffer);
        const previous = previousLatest[typeRef];
        if (previous === undefined) {
          void latestType.put(u64(typeRef), Buffer.from(pythonJsonText([...event.type])));
        } else {
          const id = take(EVENT_ID_SIZE);
          writeEventId(id, 0, previous.id);
          void ref.put(id, refTo(ordered(previous), null));
        }
        previousLatest[typeRef] = event;
      }
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        const key = ordered(event);
        void orderedData.put(key, values[i] as Buffer);
        const index = take(ORDERED_KEY_SIZE + 8);
        key.copy(index, 0, 0, 8);
        typeHash(event.type).copy(index, 8);
        key.copy(index, 16, 8);
        void typeIndex!.put(index, EMPTY);
        const id = take(EVENT_ID_SIZE);
        writeEventId(id, 0, event.id);
        const typeRef = typeRefOf(event);
        void ref.put(id, refTo(key, lastOfType.get(typeRef) === i ? typeRef : null));
      }
      count += events.length;
      void orderedCount.put(u64(1), u64(count));
      void typeIndex!.put(u64(1), Buffer.concat([u64(count), ordered(last)]));
      void system.put(u64(1), systemValue(last.id, last.timestamp));
    });
    return batch.then(() => root.flushed).then(() => undefined);
  };

  const start = performance.now();
  let committing: Promise<void> = Promise.resolve();
  let windowStart: number | null = start;
  let events: Event[] = [];
  let values: Uint8Array[] = [];
  for (let from = 0; from < n; from += SESSION) {
    if (prepared !== null) {
      for (let i = from; i < Math.min(from + SESSION, n); i++) {
        events.push(prepared.events[i]!);
        values.push(prepared.values[i]!);
      }
    } else {
      const session: Event[] = [];
      for (let i = from; i < Math.min(from + SESSION, n); i++) session.push(makeEvent(i));
      const encoded = encodeStoredEvents(session, noProblem);
      for (let i = 0; i < session.length; i++) {
        const value = encoded[i]!;
        if (typeof value === 'string') throw new Error(value);
        events.push(session[i]!);
        values.push(value);
      }
    }
    // Like the backend's flush timer: the next window closes a period after the last commit.
    if (from + SESSION >= n || (windowStart !== null && performance.now() - windowStart >= periodMs)) {
      await committing;
      windowStart = null;
      committing = commitWindow(events, values).then(() => {
        windowStart = performance.now();
      });
      events = [];
      values = [];
    }
    await new Promise((resolve) => setImmediate(resolve)); // as the backend run does per session
  }
  await committing;
  const seconds = (performance.now() - start) / 1000;
  await root.close();
  return n / seconds;
}

const typeRefOf = (event: Event): number => Number(event.type[1]) + 1;

/** (a0): the events made and encoded before the clock starts, so only the writing is timed. */
interface Prepared {
  events: Event[];
  values: Uint8Array[];
}

function prepare(n: number): Prepared {
  const events = Array.from({ length: n }, (_, i) => makeEvent(i));
  const values = encodeStoredEvents(events, () => null).map((v) => {
    if (typeof v === 'string') throw new Error(v);
    return v;
  });
  return { events, values };
}

/** `--only check`: (a) and (b) leave identical files (every row of every sub-db), windows aside. */
async function checkSameRows(n: number): Promise<void> {
  const rawPath = tempDb();
  const backendPath = tempDb();
  await rawWrite(n, 50, rawPath);
  await backendWrite(backendPath, n, 0.05);
  const rows = (file: string): Map<string, string[]> => {
    const root = open({ path: file, noSubdir: true, maxDbs: 8, readOnly: true });
    const all = new Map<string, string[]>();
    for (const name of ['SYSTEM', 'LATEST_DATA', 'LATEST_TYPE', 'ORDERED_DATA', 'ORDERED_COUNT', 'REF', 'HAT_EVENT_TS_TYPE_INDEX']) {
      const db = root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
      all.set(name, [...db.getRange()].map(({ key, value }) => `${Buffer.from(key).toString('hex')}=${Buffer.from(value).toString('hex')}`));
    }
    void root.close();
    return all;
  };
  const a = rows(rawPath);
  const b = rows(backendPath);
  for (const [name, list] of a) {
    const other = b.get(name)!;
    const same = list.length === other.length && list.every((row, i) => row === other[i]);
    console.log(`${name}: ${list.length} rows raw, ${other.length} backend: ${same ? 'identical' : 'DIFFERENT'}`);
    if (!same) process.exitCode = 1;
  }
}

interface Loader {
  label: string;
  /** mdb_load, and the mdb_dump that goes with it */
  load: string;
  dump: string;
  append: boolean;
}

/** The C tools at hand: LMDB 0.9.29 compiled from lmdb-js's sources, Debian's lmdb-utils. */
function cLoaders(): { loaders: Loader[]; missing: string[] } {
  const loaders: Loader[] = [];
  const missing: string[] = [];
  const src = path.join(path.dirname(fileURLToPath(import.meta.resolve('lmdb'))), 'dependencies', 'lmdb-data-v1', 'libraries', 'liblmdb');
  const out = path.dirname(tempDb('hat-lmdb-tools-')); // removed with the databases
  const built = (tool: string): string | null => {
    const bin = path.join(out, tool);
    const cc = spawnSync('cc', ['-O2', '-pthread', '-o', bin, path.join(src, `${tool}.c`), path.join(src, 'mdb.c'), path.join(src, 'midl.c')], { encoding: 'utf8' });
    return cc.status === 0 ? bin : null;
  };
  const load = built('mdb_load');
  const dump = built('mdb_dump');
  if (load !== null && dump !== null) loaders.push({ label: 'mdb_load -a of LMDB 0.9.29 (lmdb-js\'s sources, cc -O2)', load, dump, append: true });
  else missing.push(`no C compiler (cc) to build mdb_load from ${src}: install gcc`);
  const which = (tool: string): string | null => {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    return found.status === 0 ? found.stdout.trim() : null;
  };
  const debianLoad = which('mdb_load');
  const debianDump = which('mdb_dump');
  if (debianLoad !== null && debianDump !== null) {
    const version = spawnSync(debianLoad, ['-V'], { encoding: 'utf8' }).stdout.trim().split(':')[0] ?? '?';
    const append = !/invalid option/.test(spawnSync(debianLoad, ['-a', '-V'], { encoding: 'utf8' }).stderr);
    loaders.push({ label: `mdb_load${append ? ' -a' : ''} of Debian's lmdb-utils (${version}${append ? '' : ': no -a, a synced commit per 100 rows'})`, load: debianLoad, dump: debianDump, append });
  } else {
    missing.push("no mdb_load/mdb_dump on PATH: Debian's are in lmdb-utils (apt-get install lmdb-utils)");
  }
  return { loaders, missing };
}

/** mdb_dump -a of `file` (every named sub-db, in key order) into a temporary file. */
function dumpOf(file: string, dump: string): string {
  const text = path.join(path.dirname(file), 'events.dump');
  const fd = fs.openSync(text, 'w');
  try {
    execFileSync(dump, ['-n', '-a', file], { stdio: ['ignore', fd, 'inherit'], maxBuffer: 1 << 30 });
  } finally {
    fs.closeSync(fd);
  }
  return text;
}

/** (l) events/s: `loader` loading `dumpFile` (the rows of `n` events) into a new file, then one fsync. */
function cLoad(loader: Loader, dumpFile: string, n: number): number {
  const target = tempDb();
  const start = performance.now();
  execFileSync(loader.load, [...(loader.append ? ['-a'] : []), '-n', '-f', dumpFile, target], { stdio: ['ignore', 'ignore', 'pipe'] });
  const fd = fs.openSync(target, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const seconds = (performance.now() - start) / 1000;
  fs.rmSync(target, { force: true });
  return n / seconds;
}

const spreadOf = (values: number[]): string => values.length === 1
  ? `${fmt(values[0]!)} ev/s`
  : `${fmt(median(values))} ev/s (${fmt(Math.min(...values))}-${fmt(Math.max(...values))})`;

// A collection before each measured block, so one block's garbage is not another's pause.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

interface QueryKind {
  name: string;
  label: string;
  /** per store size: the query and its expected result length */
  make(n: number): { q: QueryData; length: number };
  iterations: number;
  /** the reported time is divided by this (unique-type latest: per type looked up) */
  per: number;
}

const allTypes = Array.from({ length: TYPES }, (_, i) => typeOf(i));
const QUERY_KINDS: QueryKind[] = [
  { name: 'latestOneType', label: 'latest 100 of one type (1 of 1000 types)', iterations: 300, per: 1,
    make: () => ({ q: { types: [typeOf(7)], maxResults: 100 }, length: 100 }) },
  { name: 'latestAny', label: 'latest 100, no type filter', iterations: 300, per: 1,
    make: () => ({ q: { maxResults: 100 }, length: 100 }) },
  { name: 'uniquePerType', label: 'unique-type latest, per type looked up', iterations: 300, per: TYPES,
    make: () => ({ q: { types: allTypes, uniqueType: true }, length: TYPES }) },
  { name: 'range', label: 'time range of 1000 events (mid-store)', iterations: 100, per: 1,
    make: (n) => {
      const mid = Math.floor(n / 2);
      return { q: { tFrom: makeEvent(mid).timestamp, tTo: makeEvent(mid + 999).timestamp, order: 'ascending' }, length: 1000 };
    } },
];
const WARMUP = 30;


/** One measured block: warm-up, then `iterations` timed runs; every result's length checked. */
async function timeQuery(backend: LmdbBackend, kind: QueryKind, n: number): Promise<number[]> {
  const { q, length } = kind.make(n);
  const once = async (): Promise<number> => {
    const start = performance.now();
    const result = await backend.query(q);
    const ms = performance.now() - start;
    if (result.length !== length) throw new Error(`${kind.name}: ${result.length} results, expected ${length}`);
    return ms / kind.per;
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < kind.iterations; i++) times.push(await once());
  return times;
}

interface QueryStats { medianMs: number; p95Ms: number; runMediansMs: number[] }

/**
 * (c) Both stores reopened fresh and measured alternately, run after run, so a change in the
 * machine's load falls on both sizes alike. Per kind and size: the median of the run medians,
 * the p95 over every sample, and each run's median.
 */
async function queries(paths: { n: number; path: string }[], runs: number): Promise<Record<string, QueryStats>[]> {
  const backends = await Promise.all(paths.map(({ path: p }) => openLmdbBackend(benchLmdbConf(p, 1), { cleanup: false })));
  const samples = paths.map(() => new Map(QUERY_KINDS.map((k) => [k.name, { all: [] as number[], runs: [] as number[] }])));
  try {
    for (let run = 0; run < runs; run++) {
      for (const kind of QUERY_KINDS) {
        for (let s = 0; s < paths.length; s++) {
          collect();
          const times = await timeQuery(backends[s]!, kind, paths[s]!.n);
          const entry = samples[s]!.get(kind.name)!;
          entry.all.push(...times);
          entry.runs.push(median(times));
        }
      }
    }
  } finally {
    for (const backend of backends) await backend.close();
  }
  return samples.map((perKind) => Object.fromEntries([...perKind].map(([name, { all, runs: r }]) =>
    [name, { medianMs: median(r), p95Ms: percentile(all, 0.95), runMediansMs: r }])));
}


async function main(): Promise<void> {
  const parts = new Set((args.includes('--only') ? args[args.indexOf('--only') + 1]! : 'l,a,b,c').split(','));
  const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 5;
  const repeat = args.includes('--repeat') ? Number(args[args.indexOf('--repeat') + 1]) : 3;
  console.log(`lmdb benchmark${full ? ' (--full)' : ''}: node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: [string, string, string][] = [];
  const json: Record<string, unknown> = { full, repeat };
  if (parts.has('l') || parts.has('a') || parts.has('b')) {
    const { loaders, missing } = parts.has('l') ? cLoaders() : { loaders: [], missing: [] };
    for (const message of missing) console.log(`(l) skipped: ${message}`);
    const raw: number[] = [];
    const rawPuts: number[] = [];
    const prepared = parts.has('a') ? prepare(BIG) : null;
    const periodic: number[] = [];
    const ceiling = new Map<Loader, number[]>(loaders.map((l) => [l, []]));
    let dumpFile: string | null = null;
    // Alternating, run after run, so a change in the machine's load falls on every row alike.
    for (let r = 0; r < repeat; r++) {
      if (parts.has('a')) {
        rawPuts.push(await rawWrite(BIG, 1000, tempDb(), prepared));
        raw.push(await rawWrite(BIG));
      }
      if (parts.has('b') || loaders.length > 0) {
        const file = tempDb();
        const rate = await backendWrite(file, BIG, 1);
        if (parts.has('b')) periodic.push(rate);
        dumpFile ??= loaders.length > 0 ? dumpOf(file, loaders[0]!.dump) : null;
      }
      // Debian's, without -a, takes minutes: once.
      for (const loader of loaders) if (loader.append || r === 0) ceiling.get(loader)!.push(cLoad(loader, dumpFile!, BIG));
      console.log(`run ${r + 1}: ${[...ceiling.values(), rawPuts, raw, periodic].map((v) => (v.length > r ? fmt(v[r]!) : '-')).join(' | ')} ev/s`);
    }
    const durable = parts.has('b') ? await backendWrite(tempDb(), DURABLE_EVENTS, 0) : null;
    if (durable !== null) console.log(`(b) 0 s done: ${fmt(durable)} ev/s`);
    const best = Math.max(0, ...[...ceiling.values()].map((v) => median(v)));
    Object.assign(json, { ceiling: [...ceiling].map(([l, v]) => ({ tool: l.label, rates: v })), rawPuts, raw, periodic, durable: { events: DURABLE_EVENTS, rate: durable } });
    for (const [loader, rates] of ceiling) rows.push([`(l) ${loader.label}, the same rows, one fsync`, `${fmt(BIG)} events`, spreadOf(rates)]);
    if (rawPuts.length > 0) rows.push(['(a0) raw lmdb-js, same rows, events encoded before the clock', `${fmt(BIG)} events`, spreadOf(rawPuts)]);
    if (raw.length > 0) rows.push(['(a) raw lmdb-js, same rows, a txn per 1 s window', `${fmt(BIG)} events`, spreadOf(raw)]);
    if (periodic.length > 0) {
      const shares = [raw.length > 0 ? `${fmt((100 * median(periodic)) / median(raw))}% of a` : '', best > 0 ? `${fmt((100 * median(periodic)) / best)}% of the C ceiling` : '']
        .filter((x) => x !== '').join(', ');
      rows.push(['(b) backend register+flush, flush_period 1 s', `${fmt(BIG)} events`, `${spreadOf(periodic)}${shares === '' ? '' : `; ${shares}`}`]);
    }
    if (durable !== null) rows.push(['(b) backend register+flush, flush_period 0', `${fmt(DURABLE_EVENTS)} events`, `${fmt(durable)} ev/s`]);
  }
  if (parts.has('check')) await checkSameRows(30_000);
  if (parts.has('c')) {
    const stores = [{ n: SMALL, path: tempDb() }, { n: BIG, path: tempDb() }];
    for (const store of stores) await backendWrite(store.path, store.n, 1);
    const [qSmall, qBig] = await queries(stores, runs);
    json.queries = { runs, small: qSmall, big: qBig };
    for (const kind of QUERY_KINDS) {
      const s = qSmall![kind.name]!;
      const b = qBig![kind.name]!;
      const ratios = b.runMediansMs.map((x, i) => x / s.runMediansMs[i]!);
      rows.push([`(c) ${kind.label}`, '100k | 1M store', `${fmt(s.medianMs, 4)} | ${fmt(b.medianMs, 4)} ms; p95 ${fmt(s.p95Ms, 4)} | ${fmt(b.p95Ms, 4)}; ` +
        `1M/100k ${fmt(b.medianMs / s.medianMs, 2)}x (runs ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}x)`]);
    }
  }
  if (rows.length === 0) return;
  const width = rows.map((r) => r.map((c) => c.length)).reduce((a, b) => a.map((w, i) => Math.max(w, b[i]!)));
  console.log();
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(width[i]!)).join('  '));
  fs.writeFileSync(jsonPath, JSON.stringify(json, null, 2));
  console.log(`\nJSON written to ${jsonPath}`);
}

try {
  await main();
} finally {
  removeTempDbs();
}
