// LMDB cases 49–57 (numbered labels; docs/storage.md, "Limits"): partition limits (through the
// internal applyLimits hook, with the cleanup loop off), partition ids, reopen with changed conf,
// conditions, timestamps.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/common/types.ts';
import type { LimitConf, LmdbBackendConf } from '../../../src/backends/lmdb/conf.ts';
import type { LmdbBackend } from '../../../src/backends/lmdb/backend.ts';
import { c0, E, ids, json, openBackend, reopen, ts } from './helpers.ts';

function limited(limit: LimitConf): LmdbBackendConf {
  return c0({ latest: { subscriptions: [] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']], limit }] });
}

async function addFlushLimit(backend: LmdbBackend, events: Event[], at = ts(0)): Promise<number> {
  await backend.register(events);
  await backend.flush();
  await backend.applyLimits(at);
  return backend.store.partitions[0]!.count;
}

describe('LMDB backend acceptance (numbered cases), limits and reopen', () => {
  it('49: max_entries keeps the newest', async () => {
    const backend = await openBackend(limited({ max_entries: 3 }));
    const events: Event[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const e = E('a');
      events.push(e);
      counts.push(await addFlushLimit(backend, [e]));
    }
    expect(counts).toEqual([1, 2, 3, 3, 3, 3]);
    expect(ids(await backend.query({}))).toEqual(ids(events.slice(3).reverse()));
  });

  it('50: min_entries wins over max_entries', async () => {
    const backend = await openBackend(limited({ min_entries: 5, max_entries: 3 }));
    const counts: number[] = [];
    for (let i = 0; i < 10; i++) counts.push(await addFlushLimit(backend, [E('a')]));
    expect(counts).toEqual([1, 2, 3, 4, 5, 5, 5, 5, 5, 5]);
  });

  it('51: duration drops entries older than now − duration (the boundary is kept)', async () => {
    const backend = await openBackend(limited({ duration: 1 }));
    const e1 = E('a', { timestamp: ts(10) });
    const e2 = E('a', { timestamp: ts(12) });
    await backend.register([e1, e2]);
    await backend.flush();
    await backend.applyLimits(ts(12));
    expect(ids(await backend.query({}))).toEqual(ids([e2]));
    await backend.applyLimits(ts(13));
    expect(ids(await backend.query({}))).toEqual(ids([e2]));
    await backend.applyLimits(ts(14));
    expect(await backend.query({})).toEqual([]);
    expect(backend.store.partitions[0]!.count).toBe(0);
  });

  it('52: size keeps the newest entries that fit', async () => {
    const backend = await openBackend(limited({ size: 100_000 }));
    const first = Array.from({ length: 1000 }, () => E('a'));
    expect(await addFlushLimit(backend, first)).toBe(1000);
    const more = Array.from({ length: 200 }, () => E('a'));
    const kept = await addFlushLimit(backend, more);
    expect(kept).toBeLessThan(1200);
    const all = [...first, ...more];
    expect(ids(await backend.query({}))).toEqual(ids(all.slice(all.length - kept).reverse()));
  });

  it('53: partition ids follow order and sanitised subscriptions, not limits', async () => {
    const path = c0().db_path;
    const idOf = async (ordered: LmdbBackendConf['ordered']): Promise<number> => {
      const backend = await openBackend(c0({ db_path: path, ordered }));
      const id = backend.store.partitions[0]!.id;
      await backend.close();
      return id;
    };
    expect(await idOf([{ order_by: 'TIMESTAMP', subscriptions: [] }])).toBe(1);
    expect(await idOf([{ order_by: 'TIMESTAMP', subscriptions: [['*']] }])).toBe(2);
    expect(await idOf([{ order_by: 'TIMESTAMP', subscriptions: [] }])).toBe(1);
    expect(await idOf([{ order_by: 'SOURCE_TIMESTAMP', subscriptions: [] }])).toBe(3);
    expect(await idOf([{ order_by: 'TIMESTAMP', subscriptions: [['*']], limit: { max_entries: 5 } }])).toBe(2);
    expect(await idOf([{ order_by: 'TIMESTAMP', subscriptions: [['b'], ['a'], ['a'], ['b', 'x']] }])).toBe(4);
    expect(await idOf([{ order_by: 'TIMESTAMP', subscriptions: [['a'], ['b', 'x'], ['b']] }])).toBe(4);
  });

  it('54: reopen with a changed latest subscription or tighter conditions hides old rows', async () => {
    const conf = c0({ latest: { subscriptions: [['a']] } });
    let backend = await openBackend(conf);
    const e = E('a');
    await backend.register([e]);
    backend = await reopen(backend, conf);
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([e]));
    backend = await reopen(backend, { ...conf, latest: { subscriptions: [['b']] } });
    expect(await backend.query({ uniqueType: true })).toEqual([]);
    const strict = { ...conf, conditions: [{ subscriptions: [['*']], condition: { type: 'json' as const } }] };
    backend = await reopen(backend, strict);
    expect(await backend.query({ uniqueType: true })).toEqual([]);
    expect(await backend.query({})).toEqual([]); // persisted ordered entries are re-checked too
  });

  it('55: conditions: json, any, all, data types, strict equality', async () => {
    const register = async (conditions: LmdbBackendConf['conditions'], events: Event[]) => {
      const backend = await openBackend(c0({ conditions }));
      return (await backend.register(events)).map((r) => r !== null);
    };
    const onA = (condition: LmdbBackendConf['conditions'][number]['condition']) => [{ subscriptions: [['a']], condition }];
    expect(await register(onA({ type: 'json' }), [
      E('a', { payload: json(null) }), E('b'), E('a'), E('a', { payload: { type: 'binary', data: new Uint8Array() } }),
    ])).toEqual([true, true, false, false]);
    expect(await register(onA({ type: 'any', conditions: [{ type: 'json', data_value: 1 }, { type: 'json', data_value: 2 }] }), [
      E('a', { payload: json(1) }), E('a', { payload: json(2) }), E('a', { payload: json(3) }), E('a', { payload: json(true) }),
    ])).toEqual([true, true, false, false]);
    expect(await register(onA({ type: 'all', conditions: [
      { type: 'json', data_path: 'x', data_value: 1 }, { type: 'json', data_path: ['y'], data_value: 2 },
    ] }), [E('a', { payload: json({ x: 1, y: 2 }) }), E('a', { payload: json({ x: 1 }) })])).toEqual([true, false]);
    const typed = async (dataType: 'null' | 'boolean' | 'string' | 'number' | 'array' | 'object', ok: unknown, bad: unknown) =>
      register(onA({ type: 'json', data_type: dataType }), [
        E('a', { payload: json(ok as never) }), E('a', { payload: json(bad as never) }),
      ]);
    expect(await typed('number', 123, true)).toEqual([true, false]);
    expect(await typed('null', null, 1)).toEqual([true, false]);
    expect(await typed('string', 'x', 1)).toEqual([true, false]);
    expect(await typed('array', [1], { a: 1 })).toEqual([true, false]);
    expect(await typed('object', { a: 1 }, [1])).toEqual([true, false]);
    expect(await typed('boolean', false, 0)).toEqual([true, false]);
    expect(await register(onA({ type: 'any', conditions: [] }), [E('a', { payload: json(1) })])).toEqual([false]);
    expect(await register(onA({ type: 'all', conditions: [] }), [E('a', { payload: json(1) })])).toEqual([true]);
    expect(await register(onA({ type: 'json', data_path: ['x', -1], data_value: 3 }), [
      E('a', { payload: json({ x: [1, 2, 3] }) }), E('a', { payload: json({ x: [3, 2] }) }), E('a', { payload: json({}) }),
    ])).toEqual([true, false, false]);
    expect(await register(onA({ type: 'json', data_path: 'missing', data_type: 'null' }), [E('a', { payload: json({}) })]))
      .toEqual([true]);
  });

  it('56: a timestamp equal to the last one (with a larger id) is accepted', async () => {
    const backend = await openBackend(c0());
    const e1 = E('a', { timestamp: ts(5) });
    const e2 = E('a', { timestamp: ts(5) });
    expect(ids(await backend.register([e1]))).toEqual(ids([e1]));
    expect(ids(await backend.register([e2]))).toEqual(ids([e2]));
    expect(ids(await backend.query({ order: 'ascending' }))).toEqual(ids([e1, e2]));
  });

  it('57: close flushes pending events; reopen returns them', async () => {
    const conf = c0();
    let backend = await openBackend(conf);
    const events = [E('a'), E('b'), E('a')];
    await backend.register(events);
    backend = await reopen(backend, conf);
    expect(ids(await backend.query({}))).toEqual(ids([...events].reverse()));
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([events[2]!, events[1]!]));
  });
});
