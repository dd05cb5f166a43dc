// The [Q] items where we differ from Hat on purpose (issue 3), plus reads during a flush.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/common/types.ts';
import { c0, E, ids, json, openBackend, reopen, ts } from './helpers.ts';
import { captureLogger } from '../../helpers/logger.ts';

describe('LMDB backend: intended differences from Hat', () => {
  it('rejected events are null, never notified, never counted as the last id', async () => {
    const backend = await openBackend(c0({ latest: { subscriptions: [['a']] }, ordered: [] }));
    const calls: Event[][] = [];
    backend.onFlushed((events) => calls.push(events));
    const e1 = E('a', { session: 1 });
    const rejected = [E('b', { session: 1 }), E('a', { session: 1, instance: e1.id.instance })];
    expect(ids(await backend.register([e1, ...rejected]))).toEqual(ids([e1, null, null]));
    expect(await backend.getLastEventId(1)).toEqual(e1.id);
    await backend.flush();
    expect(calls.map(ids)).toEqual([ids([e1])]);
  });

  it('flushed callbacks are split per (server, session), not per session number', async () => {
    const backend = await openBackend(c0());
    const calls: Event[][] = [];
    backend.onFlushed((events) => calls.push(events));
    const a = [E('a', { server: 1, session: 7 }), E('a', { server: 1, session: 7 })];
    const b = [E('a', { server: 2, session: 7 })];
    await backend.register([...b, ...a]);
    await backend.flush();
    expect(calls.map(ids)).toEqual([ids(a), ids(b)]);
  });

  it('pending source-timestamp entries merge with persisted ones in (source time, id) order', async () => {
    const backend = await openBackend(c0({ ordered: [{ order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] }] }));
    const e1 = E('a', { sourceTimestamp: ts(-5) });
    await backend.register([e1]);
    await backend.flush();
    const e2 = E('a', { sourceTimestamp: ts(-7) });
    const e3 = E('a', { sourceTimestamp: ts(-3) });
    const e4 = E('a', { sourceTimestamp: ts(-6) });
    await backend.register([e2, e3, e4]);
    const desc = ids([e3, e1, e4, e2]);
    for (let round = 0; round < 2; round++) {
      expect(ids(await backend.query({ orderBy: 'sourceTimestamp' }))).toEqual(desc);
      expect(ids(await backend.query({ orderBy: 'sourceTimestamp', order: 'ascending' }))).toEqual([...desc].reverse());
      expect(ids(await backend.query({ orderBy: 'sourceTimestamp', maxResults: 2 }))).toEqual(desc.slice(0, 2));
      expect(ids(await backend.query({ orderBy: 'sourceTimestamp', sourceTFrom: ts(-6), sourceTTo: ts(-5) })))
        .toEqual(ids([e1, e4]));
      await backend.flush();
    }
  });

  it('pending events of another server with older timestamps sort by (timestamp, id)', async () => {
    const backend = await openBackend(c0());
    const e1 = E('a', { server: 1, timestamp: ts(10) });
    const e2 = E('a', { server: 2, timestamp: ts(5) });
    await backend.register([e1, e2]);
    expect(ids(await backend.query({}))).toEqual(ids([e1, e2]));
    await backend.flush();
    expect(ids(await backend.query({}))).toEqual(ids([e1, e2]));
  });

  it('JSON condition equality is strict: true is not 1, 1.5 is not "1.5"', async () => {
    const backend = await openBackend(c0({
      conditions: [{ subscriptions: [['*']], condition: { type: 'json', data_value: 1 } }],
    }));
    const result = await backend.register([
      E('a', { payload: json(true) }), E('a', { payload: json(1) }), E('a', { payload: json('1') }), E('a', { payload: json([1]) }),
    ]);
    expect(result.map((r) => r !== null)).toEqual([false, true, false, false]);
  });

  it('queries during an in-flight flush see every event exactly once', async () => {
    const backend = await openBackend(c0({ ordered: [
      { order_by: 'TIMESTAMP', subscriptions: [['*']] },
      { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] },
    ] }));
    const first = Array.from({ length: 50 }, () => E('a'));
    await backend.register(first);
    await backend.flush();
    const second = Array.from({ length: 500 }, (_, i) => E(i % 2 ? 'a' : 'b'));
    await backend.register(second);
    const flushing = backend.flush();
    const all = ids([...first, ...second].reverse());
    const seen: string[][] = [];
    let done = false;
    void flushing.then(() => (done = true));
    while (!done) {
      seen.push(ids(await backend.query({})));
      seen.push(ids(await backend.query({ orderBy: 'sourceTimestamp' })));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flushing;
    seen.push(ids(await backend.query({})));
    for (const result of seen) expect(result).toEqual(all);
    expect(seen.length).toBeGreaterThan(2);
  });

  it('an event the file cannot hold is refused on its own (null, logged); the others are stored', async () => {
    const log = captureLogger();
    const backend = await openBackend(c0(), { cleanup: false, logger: log });
    const [good, good2] = [E('a'), E('a')];
    const bad = { ...E('a'), timestamp: { s: 1.5, us: 0 } };
    const badPayload = { ...E('a'), payload: { type: 'binary', data: 'nope' } } as unknown as Event;
    expect(ids(await backend.register([good, bad, badPayload, good2]))).toEqual(ids([good, null, null, good2]));
    expect(log.text()).toMatch(/event not stored.*timestamp/);
    expect(log.text()).toMatch(/event not stored.*binary payload data is not bytes/);
    expect(ids(await backend.query({ order: 'ascending' }))).toEqual(ids([good, good2]));
    expect(await backend.getLastEventId(1)).toEqual(good2.id);
  });

  it("a client's source timestamp is stored as sent, as Hat stores it; outside u32 only a source-timestamp partition refuses it", async () => {
    const log = captureLogger();
    const conf = c0({ ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }, { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['s', '*']] }] });
    const backend = await openBackend(conf, { cleanup: false, logger: log });
    const odd = [1_000_000, -1, 2 ** 31, -(2 ** 40), 2 ** 32].map((us) => E('t', { sourceTimestamp: { s: 0, us } }));
    const keyed = [1_000_000, 2 ** 31, -1, 2 ** 32].map((us) => E(['s', 'x'], { sourceTimestamp: { s: 0, us } }));
    const results = await backend.register([...odd, ...keyed]);
    expect(ids(results)).toEqual(ids([...odd, keyed[0]!, keyed[1]!, null, null]));
    expect(log.lines.filter((l) => /SOURCE_TIMESTAMP partition/.test(String(l.fields['reason'])))).toHaveLength(2);
    await backend.flush();
    const reopened = await reopen(backend, conf);
    const stored = await reopened.query({ types: [['t']], order: 'ascending' });
    expect(stored.map((e) => e.sourceTimestamp)).toEqual(odd.map((e) => e.sourceTimestamp));
    const bySource = await reopened.query({ orderBy: 'sourceTimestamp', order: 'ascending' });
    // Hat's key order: (s, us as u32), so (0, 1e6) comes before (0, 2^31)
    expect(bySource.map((e) => e.sourceTimestamp!.us)).toEqual([1_000_000, 2 ** 31]);
    // a query bound the key layout cannot hold still answers (by total microseconds)
    const from = await reopened.query({ types: [['t']], order: 'ascending', tFrom: { s: 0, us: -5 } });
    expect(from).toHaveLength(odd.length);
  });

  it('an invalid configuration is a clear error', async () => {
    const { openLmdbBackend } = await import('../../../src/backends/lmdb/backend.ts');
    await expect(openLmdbBackend({ ...c0(), ordered: [{ order_by: 'NEWEST', subscriptions: [] }] } as never))
      .rejects.toThrow(/invalid lmdb backend configuration: \/ordered\/0\/order_by/);
    await expect(openLmdbBackend({ ...c0(), flush_period: undefined } as never))
      .rejects.toThrow(/missing required property 'flush_period'/);
  });

  it('after close every call rejects and queryFlushed refuses', async () => {
    const backend = await openBackend(c0());
    await backend.close();
    await backend.close(); // idempotent
    await expect(backend.register([E('a')])).rejects.toThrow(/closed/);
    await expect(backend.query({})).rejects.toThrow(/closed/);
    expect(() => backend.queryFlushed({ server: 1, session: 0, instance: 0 })).toThrow(/closed/);
  });
});
