// [Q] Superseded latest-only events are kept in the reserved archive partition (archive.ts):
// reachable by queryFlushed (ours and, through REF, Hat's), never by normal queries, invisible
// to the partition ids of configured partitions, and bounded by a fixed retention. What Hat's own
// reader (py-lmdb) sees of them: test/interop/py-lmdb-archive.test.ts.
import { describe, expect, it } from 'vitest';
import { ARCHIVE_MAX_ENTRIES } from '../../../src/backends/lmdb/archive.ts';
import type { Event } from '../../../src/common/types.ts';
import { c0, collect, E, ids, openBackend, reopen, ts } from './helpers.ts';

const FROM_START = { server: 1, session: 0, instance: 0 };

describe('LMDB backend: superseded latest-only events are persisted', () => {
  it('keeps them for queryFlushed only, beside a configured partition', async () => {
    const conf = c0({ ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['b']] }] });
    let backend = await openBackend(conf);
    const a1 = E('a');
    const b1 = E('b');
    const a2 = E('a');
    const b2 = E('b');
    await backend.register([a1, b1, a2, b2]);
    await backend.flush();
    const a3 = E('a', { session: 2 });
    await backend.register([a3]);
    await backend.flush();

    // a1 (superseded in the window) and a2 (superseded by a3 later) are archived; b1 keeps its
    // ordered ref and needs nothing.
    expect(backend.store.archive.partition?.id).toBe(2);
    expect(backend.store.archive.partition?.count).toBe(2);
    const everything = [[a1, b1, a2, b2], [a3]].map(ids);
    expect((await collect(backend.queryFlushed(FROM_START))).map(ids)).toEqual(everything);
    expect(ids(await backend.query({}))).toEqual(ids([b2, b1]));
    expect(await backend.query({ types: [['a']] })).toEqual([]);
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([a3, b2]));

    // A partition configured later gets the next id; the archive row is reused, not doubled.
    const conf2 = { ...conf, ordered: [...conf.ordered, { order_by: 'SOURCE_TIMESTAMP' as const, subscriptions: [['*']] }] };
    backend = await reopen(backend, conf2);
    expect(backend.store.partitions.map((p) => p.id)).toEqual([1, 3]);
    expect(backend.store.archive.partition?.id).toBe(2);
    expect((await collect(backend.queryFlushed(FROM_START))).map(ids)).toEqual(everything);
    await backend.close();
  });

  it('a file without superseded latest-only events has no archive partition', async () => {
    const backend = await openBackend(c0());
    await backend.register([E('a'), E('a')]);
    await backend.flush();
    expect(backend.store.archive.partition).toBeNull();
    expect(backend.store.partitions.map((p) => p.id)).toEqual([1]);
    await backend.close();
  });

  it(`retention: the limits cleanup keeps the newest ${ARCHIVE_MAX_ENTRIES} archived events`, async () => {
    const conf = c0({ ordered: [] });
    const backend = await openBackend(conf);
    const extra = 30;
    const events: Event[] = [];
    for (let i = 0; i < ARCHIVE_MAX_ENTRIES + extra + 1; i++) {
      events.push({ id: { server: 1, session: 1, instance: i + 1 }, type: ['a'], timestamp: ts(i), sourceTimestamp: null, payload: null });
    }
    for (let i = 0; i < events.length; i += 20_000) await backend.register(events.slice(i, i + 20_000));
    await backend.flush();
    expect(backend.store.archive.partition?.count).toBe(ARCHIVE_MAX_ENTRIES + extra);
    await backend.applyLimits(ts(0));
    expect(backend.store.archive.partition?.count).toBe(ARCHIVE_MAX_ENTRIES);
    const flushed = (await collect(backend.queryFlushed(FROM_START))).flat();
    expect(flushed).toHaveLength(ARCHIVE_MAX_ENTRIES + 1);
    expect(flushed[0]!.id.instance).toBe(extra + 1);
    expect(flushed.at(-1)!.id).toEqual(events.at(-1)!.id);
  }, 60_000);
});
