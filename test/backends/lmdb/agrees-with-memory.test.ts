// Randomized differential test: the same random events go through the memory backend (the
// reference query semantics) and the LMDB backend (latest '*', one TIMESTAMP and one
// SOURCE_TIMESTAMP partition on '*'); random queries must agree before and after flushes.
// Timestamps and source timestamps are distinct, so the memory backend's stable tie order
// does not come into play. By design the LMDB source-timestamp partition holds no event
// without a source timestamp; the memory backend puts those last, so they are dropped from
// its answer (before truncation) for source-timestamp queries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../../src/backends/memory.ts';
import type { Event, EventPayload, EventType, QueryData, Timestamp } from '../../../src/common/types.ts';
import { c0, ids, openBackend, ts } from './helpers.ts';

const TYPES: EventType[] = [['a'], ['b'], ['a', 'x'], ['a', 'y'], ['b', 'x'], ['c', 'x', 'z']];
const QUERY_TYPES: EventType[] = [['a'], ['b'], ['a', '*'], ['?', 'x'], ['*'], ['c', '?', 'z'], ['d']];
const PAYLOADS: (EventPayload | null)[] = [
  null,
  { type: 'json', data: 1 },
  { type: 'json', data: true },
  { type: 'json', data: { k: [1, 'v'] } },
  { type: 'binary', data: Uint8Array.of(1, 2) },
];

interface RawEvent { server: number; type: number; sts: number | null; payload: number }

const rawEvent = fc.record({
  server: fc.constantFrom(1, 2),
  type: fc.nat(TYPES.length - 1),
  sts: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null, freq: 4 }),
  payload: fc.nat(PAYLOADS.length - 1),
});
const step = fc.oneof(
  { arbitrary: fc.array(rawEvent, { minLength: 1, maxLength: 6 }), weight: 4 },
  { arbitrary: fc.constant('flush' as const), weight: 1 },
);

function buildEvents(steps: ('flush' | RawEvent[])[]): ('flush' | Event[])[] {
  const instances = new Map<number, number>();
  const usedSts = new Set<number>();
  let time = 0;
  let session = 0;
  return steps.map((s) => {
    if (s === 'flush') return s;
    session += 1;
    return s.map((r) => {
      const instance = (instances.get(r.server) ?? 0) + 1;
      instances.set(r.server, instance);
      time += 1;
      let sts: Timestamp | null = null;
      if (r.sts !== null) {
        let v = r.sts;
        while (usedSts.has(v)) v += 1; // distinct source times: no ties
        usedSts.add(v);
        sts = ts(v, 500);
      }
      return {
        id: { server: r.server, session, instance },
        type: TYPES[r.type]!,
        timestamp: ts(time),
        sourceTimestamp: sts,
        payload: PAYLOADS[r.payload]!,
      };
    });
  });
}

const optTime = fc.option(fc.integer({ min: -1000, max: 60 }).map((v) => ts(v)), { nil: null });
const query = fc.record({
  serverId: fc.option(fc.constantFrom(1, 2, 3), { nil: null, freq: 3 }),
  ids: fc.option(fc.array(fc.record({ server: fc.constantFrom(1, 2), session: fc.nat(8), instance: fc.nat(30) }), { maxLength: 6 }), { nil: null, freq: 4 }),
  types: fc.option(fc.uniqueArray(fc.constantFrom(...QUERY_TYPES), { maxLength: 3 }), { nil: null, freq: 2 }),
  tFrom: optTime,
  tTo: optTime,
  sourceTFrom: optTime,
  sourceTTo: optTime,
  payload: fc.option(fc.constantFrom(...PAYLOADS.slice(1)), { nil: null, freq: 4 }),
  order: fc.constantFrom('descending' as const, 'ascending' as const),
  orderBy: fc.constantFrom('timestamp' as const, 'sourceTimestamp' as const),
  uniqueType: fc.boolean(),
  maxResults: fc.option(fc.nat(6), { nil: null }),
}, { requiredKeys: ['order', 'orderBy', 'uniqueType'] });

/** Latest-path shaped queries (unique type, newest first, only types/t_from/max_results). */
const latestQuery = fc.record({
  types: fc.option(fc.uniqueArray(fc.constantFrom(...QUERY_TYPES), { maxLength: 3 }), { nil: null }),
  tFrom: optTime,
  maxResults: fc.option(fc.nat(6), { nil: null }),
}).map((q): QueryData => ({ ...q, uniqueType: true }));

async function expected(memory: Awaited<ReturnType<typeof createMemoryBackend>>, q: QueryData): Promise<Event[]> {
  if (q.orderBy !== 'sourceTimestamp') return memory.query(q);
  const all = (await memory.query({ ...q, maxResults: null })).filter((e) => e.sourceTimestamp !== null);
  return q.maxResults == null ? all : all.slice(0, Math.max(q.maxResults, 0));
}

// Small queries run on the main thread and the rest on reader threads; the second placement
// sends every scan to a reader thread (one, to keep the thread start-ups few).
describe.each([
  { placement: 'by size', options: {}, numRuns: 40 },
  { placement: 'all on reader threads', options: { mainThreadBudget: 0, readerThreads: 1 }, numRuns: 15 },
])('LMDB backend vs memory backend, scans placed $placement', ({ options, numRuns }) => {
  it('agree on random queries before and after flush', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 10 }),
        fc.array(fc.oneof(query, latestQuery), { minLength: 10, maxLength: 20 }),
        async (steps, queries) => {
          const memory = await createMemoryBackend();
          const lmdb = await openBackend(c0({
            ordered: [
              { order_by: 'TIMESTAMP', subscriptions: [['*']] },
              { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] },
            ],
          }), { cleanup: false, ...options });
          for (const s of buildEvents(steps)) {
            if (s === 'flush') {
              await lmdb.flush();
              continue;
            }
            expect(ids(await lmdb.register(s))).toEqual(ids(s));
            await memory.register(s);
          }
          for (const round of ['before flush', 'after flush']) {
            for (const q of queries) {
              expect(ids(await lmdb.query(q)), `${round}: ${JSON.stringify(q)}`).toEqual(ids(await expected(memory, q)));
            }
            for (const server of [1, 2]) expect(await lmdb.getLastEventId(server)).toEqual(await memory.getLastEventId(server));
            await lmdb.flush();
          }
          await lmdb.close();
        },
      ),
      { numRuns },
    );
  }, 120_000);
});
