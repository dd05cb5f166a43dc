// Hat 0.8's LMDB backend behaviour, case by case: cases 29–57, each its own test with its number
// in the name (docs/storage.md describes the behaviour). Where Hat's behaviour is a [Q] item, the
// test asserts the behaviour we chose and says so (docs/differences.md).
import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/common/types.ts';
import { c0, collect, E, ids, json, openBackend, reopen, ts } from './helpers.ts';
import { recordingLogger } from '../../helpers/logger.ts';

const ID = (server: number, session: number, instance: number) => ({ server, session, instance });

describe('LMDB backend acceptance (numbered cases)', () => {
  it('29: last event id per server, unchanged for others, kept over reopen', async () => {
    const conf = c0();
    let backend = await openBackend(conf);
    expect(await backend.getLastEventId(1)).toEqual(ID(1, 0, 0));
    expect(await backend.getLastEventId(2)).toEqual(ID(2, 0, 0));
    const e = E('a', { session: 1, instance: 1 });
    await backend.register([e]);
    expect(await backend.getLastEventId(1)).toEqual(e.id);
    expect(await backend.getLastEventId(2)).toEqual(ID(2, 0, 0));
    backend = await reopen(backend, conf);
    expect(await backend.getLastEventId(1)).toEqual(e.id);
  });

  it('30: rejected events come back null ([Q]), the rest is stored and survives reopen', async () => {
    const conf = c0({ conditions: [{ subscriptions: [['f']], condition: { type: 'json' } }] });
    let backend = await openBackend(conf);
    const e1 = E('a');
    const e2 = E('b', { server: 2 });
    const e3 = E('c', { instance: e1.id.instance });
    const e4 = E('d');
    const e5 = E('e', { timestamp: e1.timestamp });
    const e6 = E('f');
    const e7 = E('g');
    const result = await backend.register([e1, e2, e3, e4, e5, e6, e7]);
    // Hat returns all 7 unchanged; we mark the three it skipped.
    expect(ids(result)).toEqual(ids([e1, e2, null, e4, null, null, e7]));
    expect(ids(await backend.query({}))).toEqual(ids([e7, e4, e2, e1]));
    backend = await reopen(backend, conf);
    expect(ids(await backend.query({}))).toEqual(ids([e7, e4, e2, e1]));
  });

  it('31: an event stored nowhere is rejected and does not move the last id', async () => {
    const backend = await openBackend(c0({
      latest: { subscriptions: [['a']] },
      ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['a']] }],
    }));
    expect(await backend.register([E('b')])).toEqual([null]);
    expect(await backend.query({})).toEqual([]);
    expect(await backend.getLastEventId(1)).toEqual(ID(1, 0, 0));
  });

  it('32: timestamp and source-timestamp partitions, unique type, t_from with max results', async () => {
    const backend = await openBackend(c0({
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['*']] },
        { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] },
      ],
    }));
    const [e1, e2, e3] = [E('a'), E('a'), E('a')] as [Event, Event, Event];
    await backend.register([e1, e2, e3]);
    expect(ids(await backend.query({}))).toEqual(ids([e3, e2, e1]));
    expect(ids(await backend.query({ orderBy: 'sourceTimestamp' }))).toEqual(ids([e3, e2, e1]));
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([e3]));
    expect(ids(await backend.query({ tFrom: e1.timestamp, uniqueType: true, maxResults: 1 }))).toEqual(ids([e3]));
  });

  it('33: only the first partition that can hold the query types answers', async () => {
    const backend = await openBackend(c0({
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['a']] },
        { order_by: 'TIMESTAMP', subscriptions: [['b']] },
      ],
    }));
    const e1 = E('a');
    const e2 = E('b');
    await backend.register([e1, e2]);
    expect(ids(await backend.query({ types: [['a']] }))).toEqual(ids([e1]));
    expect(ids(await backend.query({ types: [['b']] }))).toEqual(ids([e2]));
    expect(ids(await backend.query({ types: [['*']] }))).toEqual(ids([e1]));
  });

  it('34: no source-timestamp partition, so ordering by source timestamp finds nothing', async () => {
    const backend = await openBackend(c0());
    await backend.register([E('a'), E('b')]);
    expect(await backend.query({ orderBy: 'sourceTimestamp' })).toEqual([]);
  });

  it('35: query types disjoint from every partition, or empty, give nothing', async () => {
    const backend = await openBackend(c0({ ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['a']] }] }));
    await backend.register([E('a'), E('b')]);
    expect(await backend.query({ types: [['b']] })).toEqual([]);
    expect(await backend.query({ types: [] })).toEqual([]);
  });

  it('36: unique-type newest first uses the latest map, ascending uses the partition', async () => {
    const backend = await openBackend(c0({ latest: { subscriptions: [['a']] } }));
    const e1 = E('a');
    const e2 = E('b');
    await backend.register([e1, e2]);
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([e1]));
    expect(ids(await backend.query({ uniqueType: true, order: 'ascending' }))).toEqual(ids([e1, e2]));
  });

  it('37: source-timestamp partitions skip events without one; timestamp ones keep them', async () => {
    for (const orderBy of ['SOURCE_TIMESTAMP', 'TIMESTAMP'] as const) {
      const backend = await openBackend(c0({
        latest: { subscriptions: [] },
        ordered: [{ order_by: orderBy, subscriptions: [['a']] }],
      }));
      const e1 = E('a');
      const e2 = E('b');
      await backend.register([e1, e2]);
      await backend.flush();
      const e3 = E('a', { sourceTimestamp: null });
      const e4 = E('a');
      await backend.register([e3, e4]);
      if (orderBy === 'SOURCE_TIMESTAMP') {
        expect(ids(await backend.query({ orderBy: 'sourceTimestamp' }))).toEqual(ids([e4, e1]));
      } else {
        expect(ids(await backend.query({}))).toEqual(ids([e4, e3, e1]));
      }
    }
  });

  it('38: max results over persisted and pending entries, same after flush', async () => {
    const backend = await openBackend(c0({ ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['a']] }] }));
    const [e1, e2, e3] = [E('a'), E('a'), E('a')] as [Event, Event, Event];
    await backend.register([e1]);
    await backend.flush();
    await backend.register([e2, e3]);
    for (let round = 0; round < 2; round++) {
      expect(ids(await backend.query({ maxResults: 2 }))).toEqual(ids([e3, e2]));
      expect(ids(await backend.query({ maxResults: 2, order: 'ascending' }))).toEqual(ids([e1, e2]));
      await backend.flush();
    }
  });

  it('39: time and source-time bounds are inclusive, before and after flush', async () => {
    const backend = await openBackend(c0({ ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['a']] }] }));
    const [e1, e2, e3, e4] = [E('a'), E('a'), E('a'), E('a')] as [Event, Event, Event, Event];
    await backend.register([e1, e2, e3, e4]);
    const now = ts(1_000_000);
    for (let round = 0; round < 2; round++) {
      expect(ids(await backend.query({ tFrom: e2.timestamp }))).toEqual(ids([e4, e3, e2]));
      expect(ids(await backend.query({ tTo: e3.timestamp, order: 'ascending' }))).toEqual(ids([e1, e2, e3]));
      expect(ids(await backend.query({ sourceTFrom: e2.sourceTimestamp }))).toEqual(ids([e4, e3, e2]));
      expect(await backend.query({ tFrom: now, tTo: now, sourceTFrom: now, sourceTTo: now })).toEqual([]);
      await backend.flush();
    }
  });

  it('40: server id filter', async () => {
    const backend = await openBackend(c0());
    const e1 = E('a', { server: 123 });
    const e2 = E('a.b', { server: 123 });
    const e3 = E('a', { server: 456 });
    const e4 = E('a.b', { server: 456 });
    await backend.register([e1, e2, e3, e4]);
    expect(ids(await backend.query({ serverId: 123 }))).toEqual(ids([e2, e1]));
    expect(await backend.query({ serverId: 1 })).toEqual([]);
  });

  it('41: server id forces the ordered path for unique type; empty latest answers nothing', async () => {
    const backend = await openBackend(c0());
    const [e1, e2, e3, e4] = [E('a'), E('b'), E('a'), E('b')] as [Event, Event, Event, Event];
    await backend.register([e1, e2, e3, e4]);
    expect(ids(await backend.query({ uniqueType: true, serverId: 1 }))).toEqual(ids([e4, e3]));
    expect(ids(await backend.query({ uniqueType: true, order: 'ascending' }))).toEqual(ids([e1, e2]));
    const noLatest = await openBackend(c0({ latest: { subscriptions: [] } }));
    await noLatest.register([E('a'), E('b')]);
    expect(await noLatest.query({ uniqueType: true })).toEqual([]);
  });

  it('42: event id and payload filters', async () => {
    const backend = await openBackend(c0());
    const e1 = E('a');
    const e2 = E('a', { payload: json(123) });
    const e3 = E('a', { payload: json('123') });
    await backend.register([e1, e2, e3]);
    expect(await backend.query({ ids: [] })).toEqual([]);
    expect(ids(await backend.query({ ids: [e1.id, e2.id] }))).toEqual(ids([e2, e1]));
    expect(ids(await backend.query({ payload: json(123) }))).toEqual(ids([e2]));
    expect(await backend.query({ payload: json(321) })).toEqual([]);
  });

  it('43: flushed callback only after the flush, with the session in order', async () => {
    const backend = await openBackend(c0({ flush_period: 0.05 }));
    const calls: Event[][] = [];
    const next = new Promise<Event[]>((resolve) => backend.onFlushed((events) => resolve(events)));
    backend.onFlushed((events) => calls.push(events));
    const events = Array.from({ length: 10 }, (_, i) => E('a', { session: 1, instance: i + 1 }));
    await backend.register(events);
    expect(calls).toEqual([]);
    expect(ids(await next)).toEqual(ids(events));
  });

  it('a flushed callback that throws is logged; the others still get the session', async () => {
    const lines: string[] = [];
    const backend = await openBackend(c0(), { cleanup: false, logger: recordingLogger(lines) });
    const calls: Event[][] = [];
    backend.onFlushed(() => {
      throw new Error('callback broke');
    });
    backend.onFlushed((events) => calls.push(events));
    const events = [E('a', { session: 1, instance: 1 })];
    await backend.register(events);
    await backend.flush();
    expect(calls.map(ids)).toEqual([ids(events)]);
    expect(lines).toEqual(['warning: lmdb backend flushed callback threw: Error: callback broke']);
  });

  it('44: one callback per session, in session order', async () => {
    const backend = await openBackend(c0({ flush_period: 0.05 }));
    const calls: Event[][] = [];
    backend.onFlushed((events) => calls.push(events));
    const events2 = Array.from({ length: 10 }, (_, i) => E('a', { session: 2, instance: i + 1 }));
    const events3 = Array.from({ length: 10 }, (_, i) => E('a', { session: 3 + i, instance: 11 + i }));
    await backend.register([...events2, ...events3]);
    await backend.flush();
    expect(calls.map(ids)).toEqual([ids(events2), ...events3.map((e) => ids([e]))]);
  });

  describe('45–47: queryFlushed', () => {
    const session = (ses: number, from: number, n: number) =>
      Array.from({ length: n }, (_, i) => E('a', { session: ses, instance: from + i }));

    it('45: nothing before the flush, the session after it', async () => {
      const backend = await openBackend(c0());
      const events1 = session(1, 1, 10);
      await backend.register(events1);
      expect(await collect(backend.queryFlushed(ID(1, 0, 0)))).toEqual([]);
      await backend.flush();
      expect((await collect(backend.queryFlushed(ID(1, 0, 0)))).map(ids)).toEqual([ids(events1)]);
    });

    it('46: strictly after the given id, over sessions, only that server', async () => {
      const backend = await openBackend(c0());
      const events1 = session(1, 1, 10);
      const events2 = session(2, 1, 10);
      await backend.register(events1);
      await backend.register(events2);
      await backend.flush();
      const q = async (s: number, ses: number, i: number) => (await collect(backend.queryFlushed(ID(s, ses, i)))).map(ids);
      expect(await q(1, 0, 0)).toEqual([ids(events1), ids(events2)]);
      expect(await q(1, 1, 5)).toEqual([ids(events1.slice(5)), ids(events2)]);
      expect(await q(1, 2, 3)).toEqual([ids(events2.slice(3))]);
      expect(await q(1, 2, 10)).toEqual([]);
      expect(await q(1, 3, 0)).toEqual([]);
      expect(await q(2, 3, 0)).toEqual([]);
    });

    it('47: a session flushed in two parts comes back as one list, also after reopen', async () => {
      const conf = c0();
      let backend = await openBackend(conf);
      const events1 = session(1, 1, 10);
      const events2 = session(2, 1, 10);
      await backend.register([...events1, ...events2]);
      await backend.flush();
      const events3 = session(2, 11, 5);
      const events4 = session(3, 16, 5);
      await backend.register([...events3, ...events4]);
      await backend.flush();
      for (let round = 0; round < 2; round++) {
        const q = async (ses: number, i: number) => (await collect(backend.queryFlushed(ID(1, ses, i)))).map(ids);
        expect(await q(0, 0)).toEqual([ids(events1), ids([...events2, ...events3]), ids(events4)]);
        expect(await q(2, 7)).toEqual([ids([...events2.slice(7), ...events3]), ids(events4)]);
        backend = await reopen(backend, conf);
      }
    });
  });

  it('48: latest-only events: every accepted one is notified and stays in queryFlushed ([Q])', async () => {
    const conf = c0({ ordered: [] });
    let backend = await openBackend(conf);
    const calls: Event[][] = [];
    backend.onFlushed((events) => calls.push(events));
    const e1 = E('a');
    const e2 = E('a');
    await backend.register([e1, e2]);
    await backend.flush();
    // Hat notifies [e2] only and query_flushed gives [[e2]]: e1 never reached replication.
    expect(calls.map(ids)).toEqual([ids([e1, e2])]);
    expect((await collect(backend.queryFlushed(ID(1, 0, 0)))).map(ids)).toEqual([ids([e1, e2])]);
    const e3 = E('a');
    await backend.register([e3]);
    await backend.flush();
    // Hat: [[e3]] (e2 lost its Latest ref to e3). Superseded events stay reachable by id.
    expect(calls.map(ids)).toEqual([ids([e1, e2]), ids([e3])]);
    expect((await collect(backend.queryFlushed(ID(1, 0, 0)))).map(ids)).toEqual([ids([e1, e2, e3])]);
    expect((await collect(backend.queryFlushed(e1.id))).map(ids)).toEqual([ids([e2, e3])]);
    backend = await reopen(backend, conf);
    expect((await collect(backend.queryFlushed(ID(1, 0, 0)))).map(ids)).toEqual([ids([e1, e2, e3])]);
    // Normal queries are Hat's: only the latest event, no ordered partition to answer from.
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([e3]));
    expect(await backend.query({})).toEqual([]);
    expect(await backend.query({ order: 'ascending' })).toEqual([]);
  });
});
