// The type index (type-index.ts): queries over literal types read it instead of scanning the
// partition, with results identical to the scan; a file written to without it (as Hat writes)
// has its index rebuilt at open.
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import type { LmdbBackend } from '../../../src/backends/lmdb/backend.ts';
import { eventIdBytes, orderedKey, systemValue, u64Bytes } from '../../../src/backends/lmdb/keys.ts';
import { orderedRef } from '../../../src/backends/lmdb/refs.ts';
import { encodeEvent } from '../../../src/sbs/event-codec.ts';
import type { Event, QueryData } from '../../../src/common/types.ts';
import { c0, E, ids, openBackend, reopen, ts } from './helpers.ts';

async function scanned(backend: LmdbBackend, q: QueryData): Promise<Event[]> {
  const partitions = backend.store.partitions;
  for (const p of partitions) p.indexed = false;
  try {
    return await backend.query(q);
  } finally {
    for (const p of partitions) p.indexed = true;
  }
}

const TYPES = [['a'], ['b'], ['a', 'x'], ['c']];

describe('LMDB backend type index', () => {
  it('answers literal-type queries exactly as the partition scan does', async () => {
    const conf = c0({
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['*']] },
        { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] },
      ],
    });
    const backend = await openBackend(conf);
    const events = Array.from({ length: 300 }, (_, i) =>
      E(TYPES[(i * 7) % TYPES.length]!, { sourceTimestamp: i % 5 === 0 ? null : ts(1000 - i), server: 1 + (i % 2) }));
    await backend.register(events.slice(0, 200));
    await backend.flush();
    await backend.register(events.slice(200)); // pending entries merge with indexed ones
    const queries: QueryData[] = [];
    for (const types of [[['a']], [['b'], ['c']], [['a', 'x'], ['a'], ['a']], [['d']], [['a'], ['a', '*']]]) {
      for (const order of ['descending', 'ascending'] as const) {
        for (const orderBy of ['timestamp', 'sourceTimestamp'] as const) {
          queries.push({ types, order, orderBy });
          queries.push({ types, order, orderBy, maxResults: 7 });
          queries.push({ types, order, orderBy, uniqueType: true, serverId: 2 });
          queries.push({ types, order, orderBy, tFrom: events[50]!.timestamp, tTo: events[250]!.timestamp });
          queries.push({ types, order, orderBy, sourceTFrom: ts(800), sourceTTo: ts(900), maxResults: 3 });
        }
      }
    }
    let nonEmpty = 0;
    for (const q of queries) {
      const viaIndex = await backend.query(q);
      expect(ids(viaIndex), JSON.stringify(q)).toEqual(ids(await scanned(backend, q)));
      if (viaIndex.length > 0) nonEmpty += 1;
    }
    expect(nonEmpty).toBeGreaterThan(queries.length / 2);
  });

  it('rebuilds the index at open after the file was written without it (as Hat writes)', async () => {
    const conf = c0({ latest: { subscriptions: [] } });
    let backend = await openBackend(conf);
    const old = [E('a'), E('b'), E('a')];
    await backend.register(old);
    await backend.close();

    // What Hat's flush adds: the ORDERED_DATA row, its ref, the count and the last id; no index entry.
    const added = E('a');
    const raw = open({ path: conf.db_path, noSubdir: true, maxDbs: 8 });
    const db = (name: string) => raw.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
    const key = orderedKey(1, added.timestamp, added.id);
    await raw.batch(() => {
      void db('ORDERED_DATA').put(key, Buffer.from(encodeEvent(added)));
      void db('REF').put(eventIdBytes(added.id), orderedRef(key));
      void db('ORDERED_COUNT').put(u64Bytes(1), u64Bytes(4));
      void db('SYSTEM').put(u64Bytes(1), systemValue(added.id, added.timestamp));
    });
    await raw.close();

    backend = await openBackend(conf);
    expect(ids(await backend.query({ types: [['a']] }))).toEqual(ids([added, old[2]!, old[0]!]));
    expect(ids(await backend.query({ types: [['b']] }))).toEqual(ids([old[1]!]));
    backend = await reopen(backend, conf);
    expect(ids(await backend.query({ types: [['a']], maxResults: 1 }))).toEqual(ids([added]));
  });

  it('the limits cleanup removes index entries with the data', async () => {
    const conf = c0({ latest: { subscriptions: [] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']], limit: { max_entries: 2 } }] });
    let backend = await openBackend(conf);
    const events = [E('a'), E('b'), E('a'), E('a')];
    await backend.register(events);
    await backend.flush();
    await backend.applyLimits(ts(0));
    expect(ids(await backend.query({ types: [['a']] }))).toEqual(ids([events[3]!, events[2]!]));
    expect(await backend.query({ types: [['b']] })).toEqual([]);
    expect(backend.store.env.dbs.HAT_EVENT_TS_TYPE_INDEX.getKeysCount()).toBe(2 + 1); // entries + meta row
    backend = await reopen(backend, conf); // the meta row still matches: no rebuild needed
    expect(ids(await backend.query({ types: [['a'], ['b']] }))).toEqual(ids([events[3]!, events[2]!]));
  });
});
