// File compatibility with Hat 0.8's layout (docs/storage.md, "Sub-databases"). Keys and the non-event values
// are built here byte by byte with BigInt, independently of src/backends/lmdb/keys.ts; event
// values use the SBS codec (checked against the reference vectors in its own tests). The same
// files read and written by py-lmdb itself: test/interop (npm run test:interop).
import * as lmdb from 'lmdb';
import { describe, expect, it } from 'vitest';
import { assertLmdbDataV1, isLmdbDataV1, type LmdbVersion } from '../../../src/backends/lmdb/data-format.ts';
import { encodeEvent } from '../../../src/sbs/event-codec.ts';
import type { Event, Timestamp } from '../../../src/common/types.ts';
import { c0, collect, ids, openBackend } from './helpers.ts';

const NAMES = ['SYSTEM', 'LATEST_DATA', 'LATEST_TYPE', 'ORDERED_DATA', 'ORDERED_PARTITION', 'ORDERED_COUNT', 'REF'] as const;
type Name = (typeof NAMES)[number];

const u64 = (n: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const tsBytes = (t: Timestamp): Buffer => {
  const us = Buffer.alloc(4);
  us.writeUInt32BE(t.us);
  return Buffer.concat([u64(BigInt(t.s) + 2n ** 63n), us]);
};
const eid = (e: Event): Buffer => Buffer.concat([u64(e.id.server), u64(e.id.session), u64(e.id.instance)]);
const oKey = (pid: number, t: Timestamp, e: Event): Buffer => Buffer.concat([u64(pid), tsBytes(t), eid(e)]);
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const value = (e: Event): Buffer => Buffer.from(encodeEvent(e));

function openRaw(path: string) {
  const root = lmdb.open({ path, noSubdir: true, maxDbs: 7 });
  const dbs = Object.fromEntries(NAMES.map((name) => [name, root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' })])) as Record<Name, ReturnType<typeof root.openDB<Buffer, Buffer>>>;
  return { root, dbs };
}

function rows(db: { getRange(): Iterable<{ key: Buffer; value: Buffer }> }): string[][] {
  return [...db.getRange()].map(({ key, value }) => [key.toString('hex'), value.toString('hex')]);
}

const hexRows = (entries: [Buffer, Buffer][]): string[][] =>
  entries.map(([k, v]) => [k.toString('hex'), v.toString('hex')]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));

const T = 1_690_000_000;
const at = (s: number, us = 0): Timestamp => ({ s: T + s, us });
const ev = (server: number, session: number, instance: number, type: string[], t: Timestamp, sts: Timestamp | null, payload: Event['payload']): Event =>
  ({ id: { server, session, instance }, type, timestamp: t, sourceTimestamp: sts, payload });

describe('LMDB file compatibility with Hat 0.8', () => {
  it('the lmdb-js binary in use is the data-format-v1 build (postinstall)', () => {
    const version = (lmdb as unknown as { version: LmdbVersion }).version;
    expect(version.versionString).toMatch(/^LMDB 0\.9\.\d+/);
    expect(isLmdbDataV1(version)).toBe(true);
    expect(isLmdbDataV1({ major: 0, minor: 9, patch: 90 })).toBe(false);
    expect(() => assertLmdbDataV1({ versionString: 'LMDB 0.9.90', major: 0, minor: 9, patch: 90 }))
      .toThrowError(/^lmdb loads LMDB 0\.9\.90, .*`node scripts\/build-lmdb-data-v1\.mjs` in the hat-event-ts folder \(node_modules\/hat-event-ts/);
  });

  it('a file written byte by byte in Hat\'s layout opens and answers queries', async () => {
    const conf = c0({
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['*']] },
        { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['c']] },
      ],
    });
    const a1 = ev(1, 1, 1, ['a', 'b'], at(1, 5), null, { type: 'json', data: { x: 1 } });
    const a2 = ev(1, 1, 2, ['a', 'b'], at(2), at(-100), { type: 'binary', data: Uint8Array.of(1, 2, 3) });
    const c = ev(1, 2, 3, ['c'], at(3), at(0), null);
    const raw = openRaw(conf.db_path);
    await raw.root.batch(() => {
      const { dbs } = raw;
      void dbs.SYSTEM.put(u64(1), Buffer.concat([eid(c), tsBytes(c.timestamp)]));
      void dbs.LATEST_TYPE.put(u64(1), utf8('["a", "b"]'));
      void dbs.LATEST_TYPE.put(u64(2), utf8('["c"]'));
      void dbs.LATEST_DATA.put(u64(1), value(a2));
      void dbs.LATEST_DATA.put(u64(2), value(c));
      void dbs.ORDERED_PARTITION.put(u64(1), utf8('{"order": 1, "subscriptions": [["*"]]}'));
      void dbs.ORDERED_PARTITION.put(u64(2), utf8('{"order": 2, "subscriptions": [["c"]]}'));
      void dbs.ORDERED_COUNT.put(u64(1), u64(3));
      void dbs.ORDERED_COUNT.put(u64(2), u64(1));
      for (const e of [a1, a2, c]) void dbs.ORDERED_DATA.put(oKey(1, e.timestamp, e), value(e));
      void dbs.ORDERED_DATA.put(oKey(2, c.sourceTimestamp!, c), value(c));
      void dbs.REF.put(eid(a1), Buffer.concat([Buffer.of(3), oKey(1, a1.timestamp, a1)]));
      void dbs.REF.put(eid(a2), Buffer.concat([Buffer.of(1), u64(1), Buffer.of(3), oKey(1, a2.timestamp, a2)]));
      void dbs.REF.put(eid(c), Buffer.concat([
        Buffer.of(1), u64(2), Buffer.of(3), oKey(1, c.timestamp, c), Buffer.of(3), oKey(2, c.sourceTimestamp!, c),
      ]));
    });
    await raw.root.close();

    const backend = await openBackend(conf);
    expect(backend.store.partitions.map((p) => p.id)).toEqual([1, 2]);
    expect(await backend.getLastEventId(1)).toEqual(c.id);
    const all = await backend.query({});
    expect(ids(all)).toEqual(ids([c, a2, a1]));
    expect(all[2]!.payload?.type === 'json' && all[2]!.payload.data).toEqual({ x: 1 });
    expect(all[2]!.timestamp).toEqual(at(1, 5));
    expect(all[1]!.payload).toEqual({ type: 'binary', data: Uint8Array.of(1, 2, 3) });
    expect(all[1]!.sourceTimestamp).toEqual(at(-100));
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([c, a2]));
    expect(ids(await backend.query({ orderBy: 'sourceTimestamp' }))).toEqual(ids([c]));
    expect((await collect(backend.queryFlushed({ server: 1, session: 0, instance: 0 }))).map(ids)).toEqual([ids([a1, a2]), ids([c])]);

    // A new event of a known type reuses its type_ref and moves the Latest ref.
    const a3 = ev(1, 3, 4, ['a', 'b'], at(4), null, null);
    expect(ids(await backend.register([a3]))).toEqual(ids([a3]));
    await backend.close();
    const check = openRaw(conf.db_path);
    expect(rows(check.dbs.LATEST_TYPE)).toHaveLength(2);
    expect(check.dbs.LATEST_DATA.get(u64(1))?.toString('hex')).toBe(value(a3).toString('hex'));
    expect(check.dbs.REF.get(eid(a2))?.toString('hex')).toBe(Buffer.concat([Buffer.of(3), oKey(1, a2.timestamp, a2)]).toString('hex'));
    expect(rows(check.dbs.ORDERED_PARTITION)).toHaveLength(2);
    expect(check.dbs.ORDERED_COUNT.get(u64(1))?.toString('hex')).toBe(u64(4).toString('hex'));
    await check.root.close();
  });

  it('a file written by the backend has exactly Hat\'s rows', async () => {
    const conf = c0({
      latest: { subscriptions: [['a', '*']] },
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['b'], ['a', '*']] },
        { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] },
      ],
    });
    const e1 = ev(2, 1, 1, ['a', 'é'], at(1), at(-1, 999_999), { type: 'json', data: [1, 'x'] });
    const e2 = ev(2, 1, 2, ['b'], at(1), null, { type: 'sbs', data: { module: null, type: 'Integer', data: Uint8Array.of(7) } });
    const e3 = ev(2, 2, 3, ['a', 'é'], at(2), null, null);
    const backend = await openBackend(conf);
    await backend.register([e1, e2]);
    await backend.flush();
    await backend.register([e3]);
    await backend.close();

    const raw = openRaw(conf.db_path);
    expect([...raw.root.getKeys()].sort()).toEqual([...NAMES, 'HAT_EVENT_TS_TYPE_INDEX'].sort()); // ours: Hat opens its seven by name
    expect(rows(raw.dbs.SYSTEM)).toEqual(hexRows([[u64(2), Buffer.concat([eid(e3), tsBytes(e3.timestamp)])]]));
    expect(rows(raw.dbs.LATEST_TYPE)).toEqual(hexRows([[u64(1), utf8('["a", "\\u00e9"]')]]));
    expect(rows(raw.dbs.LATEST_DATA)).toEqual(hexRows([[u64(1), value(e3)]]));
    expect(rows(raw.dbs.ORDERED_PARTITION)).toEqual(hexRows([
      [u64(1), utf8('{"order": 1, "subscriptions": [["a", "*"], ["b"]]}')],
      [u64(2), utf8('{"order": 2, "subscriptions": [["*"]]}')],
    ]));
    expect(rows(raw.dbs.ORDERED_COUNT)).toEqual(hexRows([[u64(1), u64(3)], [u64(2), u64(1)]]));
    expect(rows(raw.dbs.ORDERED_DATA)).toEqual(hexRows([
      [oKey(1, e1.timestamp, e1), value(e1)],
      [oKey(1, e2.timestamp, e2), value(e2)],
      [oKey(1, e3.timestamp, e3), value(e3)],
      [oKey(2, e1.sourceTimestamp!, e1), value(e1)],
    ]));
    expect(rows(raw.dbs.REF)).toEqual(hexRows([
      [eid(e1), Buffer.concat([Buffer.of(3), oKey(1, e1.timestamp, e1), Buffer.of(3), oKey(2, e1.sourceTimestamp!, e1)])],
      [eid(e2), Buffer.concat([Buffer.of(3), oKey(1, e2.timestamp, e2)])],
      [eid(e3), Buffer.concat([Buffer.of(1), u64(1), Buffer.of(3), oKey(1, e3.timestamp, e3)])],
    ]));
    await raw.root.close();
  });
});
