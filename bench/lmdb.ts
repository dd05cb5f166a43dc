// LMDB backend benchmark (issue 3). Prints a table and writes JSON.
//   (a) raw lmdb-js writing the backend's sub-dbs (Hat's seven and our type index) with the
//       same keys/values (SBS encoding included), one durable transaction per 50k events;
//   (b) the backend: register + flush in 100-event sessions, flush_period 1 s and 0;
//   (c) query latency on stores of 100k and 1M events (1000 event types, round robin):
//       latest 100 of one type, unique-type latest of 1000 types, a 1000-event time range.
// Usage: npm run bench:lmdb -- [--full] [--json <file>]
//   default: (a)/(b 1 s) with 1M events, (b 0 s) with 20k events (each register is an fsync),
//   --full: (b 0 s) with 1M events as well (takes many minutes).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open } from 'lmdb';
import { openLmdbBackend, type LmdbBackend } from '../src/backends/lmdb/backend.ts';
import type { LmdbBackendConf } from '../src/backends/lmdb/conf.ts';
import { eventIdBytes, orderedKey, systemValue, u64Bytes } from '../src/backends/lmdb/keys.ts';
import { latestRef, orderedRef } from '../src/backends/lmdb/refs.ts';
import { indexKey, typeHash } from '../src/backends/lmdb/type-index.ts';
import { encodeEvent } from '../src/sbs/event-codec.ts';
import type { Event, EventType, QueryData } from '../src/common/types.ts';

const args = process.argv.slice(2);
const full = args.includes('--full');
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1]! : path.join(os.tmpdir(), 'hat-lmdb-bench.json');
const BIG = 1_000_000;
const SMALL = 100_000;
const SESSION = 100;
const TYPES = 1000;
const DURABLE_EVENTS = full ? BIG : 20_000;
const T0 = 1_700_000_000;

const typeOf = (i: number): EventType => ['bench', String(i % TYPES)];
const EMPTY = Buffer.alloc(0);

function makeEvent(i: number): Event {
  const session = Math.floor(i / SESSION) + 1;
  return {
    id: { server: 1, session, instance: i + 1 },
    type: typeOf(i),
    timestamp: { s: T0 + Math.floor(i / 1000), us: (i % 1000) * 1000 },
    sourceTimestamp: { s: T0 + Math.floor(i / 1000), us: 0 },
    payload: { type: 'json', data: { value: i, quality: 'good' } },
  };
}

const tmpDirs: string[] = [];
function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-lmdb-bench-'));
  tmpDirs.push(dir);
  return path.join(dir, 'events.db');
}

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

/** (a) raw lmdb-js: what one flush of the backend writes, without any backend logic. */
async function rawWrite(n: number): Promise<number> {
  const root = open({ path: tempDb(), noSubdir: true, maxDbs: 8, mapSize: 4 * 1024 ** 3 });
  const db = (name: string) => root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
  const [system, latestData, latestType, orderedData, orderedCount, ref, typeIndex] =
    ['SYSTEM', 'LATEST_DATA', 'LATEST_TYPE', 'ORDERED_DATA', 'ORDERED_COUNT', 'REF', 'HAT_EVENT_TS_TYPE_INDEX'].map(db) as [ReturnType<typeof db>, ...ReturnType<typeof db>[]];
  const start = performance.now();
  const CHUNK = 50_000;
  for (let from = 0; from < n; from += CHUNK) {
    const last = new Map<number, { event: Event; value: Uint8Array }>();
    await root.batch(() => {
      let event: Event | undefined;
      for (let i = from; i < Math.min(from + CHUNK, n); i++) {
        event = makeEvent(i);
        const value = encodeEvent(event);
        const key = orderedKey(1, event.timestamp, event.id);
        void orderedData.put(key, value as Buffer);
        void typeIndex!.put(indexKey(key, typeHash(event.type)), EMPTY);
        const typeRef = (i % TYPES) + 1;
        last.set(typeRef, { event, value });
        void ref.put(eventIdBytes(event.id), orderedRef(key));
      }
      for (const [typeRef, { event, value }] of last) {
        void latestData.put(u64Bytes(typeRef), value as Buffer);
        void latestType.put(u64Bytes(typeRef), Buffer.from(JSON.stringify(event.type)));
        void ref.put(eventIdBytes(event.id), Buffer.concat([latestRef(typeRef), orderedRef(orderedKey(1, event.timestamp, event.id))]));
      }
      void orderedCount.put(u64Bytes(1), u64Bytes(Math.min(from + CHUNK, n)));
      void system.put(u64Bytes(1), systemValue(event!.id, event!.timestamp));
    });
    await root.flushed;
  }
  const seconds = (performance.now() - start) / 1000;
  await root.close();
  return n / seconds;
}

/** (b) register + flush through the backend; yields to the event loop between sessions. */
async function backendWrite(dbPath: string, n: number, flushPeriod: number, keepOpen = false): Promise<{ rate: number; backend?: LmdbBackend }> {
  const backend = await openLmdbBackend(conf(dbPath, flushPeriod), { cleanup: false });
  const start = performance.now();
  for (let from = 0; from < n; from += SESSION) {
    const events: Event[] = [];
    for (let i = from; i < Math.min(from + SESSION, n); i++) events.push(makeEvent(i));
    const result = await backend.register(events);
    if (result[0] === null) throw new Error('event rejected');
    await new Promise((resolve) => setImmediate(resolve));
  }
  await backend.flush();
  const rate = n / ((performance.now() - start) / 1000);
  if (keepOpen) return { rate, backend };
  await backend.close();
  return { rate };
}

function timeQuery(backend: LmdbBackend, q: QueryData, repeat: number, expectLength: number): Promise<{ medianMs: number; p95Ms: number }> {
  return (async () => {
    const times: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const start = performance.now();
      const result = await backend.query(q);
      times.push(performance.now() - start);
      if (result.length !== expectLength) throw new Error(`query returned ${result.length}, expected ${expectLength}`);
    }
    times.sort((a, b) => a - b);
    return { medianMs: times[Math.floor(repeat / 2)]!, p95Ms: times[Math.floor(repeat * 0.95)]! };
  })();
}

async function queries(backend: LmdbBackend, n: number) {
  const allTypes = Array.from({ length: TYPES }, (_, i) => typeOf(i));
  const mid = Math.floor(n / 2);
  const latestOneType = await timeQuery(backend, { types: [typeOf(7)], maxResults: 100 }, 50, 100);
  const latestAny = await timeQuery(backend, { maxResults: 100 }, 200, 100);
  const unique = await timeQuery(backend, { types: allTypes, uniqueType: true }, 200, TYPES);
  const range = await timeQuery(backend, {
    tFrom: makeEvent(mid).timestamp, tTo: makeEvent(mid + 999).timestamp, order: 'ascending',
  }, 100, 1000);
  return { latestOneType, latestAny, uniquePerTypeMs: { medianMs: unique.medianMs / TYPES, p95Ms: unique.p95Ms / TYPES }, range };
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  console.log(`lmdb benchmark${full ? ' (--full)' : ''}: node ${process.version}, ${os.cpus().length} cpus`);
  const raw = await rawWrite(BIG);
  console.log(`(a) raw done: ${fmt(raw)} ev/s`);
  const bigPath = tempDb();
  const periodic = await backendWrite(bigPath, BIG, 1, true);
  console.log(`(b) 1 s done: ${fmt(periodic.rate)} ev/s`);
  const durable = await backendWrite(tempDb(), DURABLE_EVENTS, 0);
  console.log(`(b) 0 s done: ${fmt(durable.rate)} ev/s`);
  const qBig = await queries(periodic.backend!, BIG);
  await periodic.backend!.close();
  const smallPath = tempDb();
  const small = await backendWrite(smallPath, SMALL, 1, true);
  const qSmall = await queries(small.backend!, SMALL);
  await small.backend!.close();

  const rows: [string, string, string][] = [
    ['(a) raw lmdb-js, same sub-dbs/keys/values, 50k-event txns', `${fmt(BIG)} events`, `${fmt(raw)} ev/s`],
    ['(b) backend register+flush, flush_period 1 s', `${fmt(BIG)} events`, `${fmt(periodic.rate)} ev/s (${fmt((100 * periodic.rate) / raw)}% of a)`],
    ['(b) backend register+flush, flush_period 0', `${fmt(DURABLE_EVENTS)} events`, `${fmt(durable.rate)} ev/s`],
  ];
  for (const [label, q] of [['latest 100 of one type (1 of 1000 types)', 'latestOneType'], ['latest 100, no type filter', 'latestAny'],
    ['unique-type latest, per type looked up', 'uniquePerTypeMs'], ['time range of 1000 events', 'range']] as const) {
    const s = qSmall[q];
    const b = qBig[q];
    rows.push([`(c) ${label}`, '100k | 1M store', `${fmt(s.medianMs, 4)} | ${fmt(b.medianMs, 4)} ms (p95 ${fmt(s.p95Ms, 4)} | ${fmt(b.p95Ms, 4)}; 1M/100k ${fmt(b.medianMs / s.medianMs, 2)}x)`]);
  }
  const width = rows.map((r) => r.map((c) => c.length)).reduce((a, b) => a.map((w, i) => Math.max(w, b[i]!)));
  console.log();
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(width[i]!)).join('  '));
  fs.writeFileSync(jsonPath, JSON.stringify({ full, raw, periodic: periodic.rate, durable: { events: DURABLE_EVENTS, rate: durable.rate }, queries: { small: qSmall, big: qBig } }, null, 2));
  console.log(`\nJSON written to ${jsonPath}`);
}

try {
  await main();
} finally {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
}
