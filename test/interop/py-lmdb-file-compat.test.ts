// File compatibility with the real LMDB 0.9 through py-lmdb (what Hat 0.8 runs on): a file
// written by Python in Hat's layout opens here and answers queries, and a file written here
// opens in py-lmdb with Hat's settings and satisfies the layout's invariants. Event values are
// SBS HatEventer.Event from our codec (checked against the reference vectors in test/sbs).
// Needs Debian's python3-lmdb: `npm run test:interop` (not part of `npm test`).
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent } from '../../src/sbs/event-codec.ts';
import type { Event, Timestamp } from '../../src/common/types.ts';
import { c0, collect, ids, openBackend } from '../backends/lmdb/helpers.ts';
import { holdHatWriteTransaction, runHatLmdb } from './python-helpers.ts';
import { cleanup, jsonLines, runCli } from '../cli/helpers.ts';
import { timestampToIsoString } from '../../src/common/timestamp.ts';

afterEach(cleanup);

interface ReadAnswer {
  rows: Record<string, [string, string][]>;
  partitions: Record<string, { order: number; subscriptions: string[][] }>;
  flushed: [string, string][];
  lmdb_version: number[];
}

const T = 1_690_000_000;
const at = (s: number, us = 0): Timestamp => ({ s: T + s, us });
const ev = (id: [number, number, number], type: string[], t: Timestamp, sts: Timestamp | null, payload: Event['payload']): Event =>
  ({ id: { server: id[0], session: id[1], instance: id[2] }, type, timestamp: t, sourceTimestamp: sts, payload });
const pyTime = (t: Timestamp | null): [number, number] | null => (t === null ? null : [t.s, t.us]);
const hex = (e: Event): string => Buffer.from(encodeEvent(e)).toString('hex');
/** A value read by Python, decoded and encoded again: equal hex = the same event, losslessly. */
const reencoded = ([, value]: [string, string]): string => hex(decodeEvent(Buffer.from(value, 'hex')));

/**
 * A file in Hat's layout written by py-lmdb: partition 1 takes everything, partition 2 (by source
 * timestamp) ['c']; events of servers 1 and 7, every payload kind.
 */
function writeHatFile(path: string): { a1: Event; a2: Event; c: Event; other: Event } {
  const a1 = ev([1, 1, 1], ['a', 'b'], at(1, 5), null, { type: 'json', data: { x: [1, 'é'] } });
  const a2 = ev([1, 1, 2], ['a', 'b'], at(2), at(-100), { type: 'binary', data: Uint8Array.of(1, 2, 3) });
  const c = ev([1, 2, 3], ['c'], at(3), at(0), null);
  const other = ev([7, 4, 9], ['x'], at(4), null, { type: 'sbs', data: { module: 'M', type: 'T', data: Uint8Array.of(9) } });
  const stored = (e: Event, partitions: number[]) => ({
    id: [e.id.server, e.id.session, e.id.instance], type: e.type, timestamp: pyTime(e.timestamp),
    source_timestamp: pyTime(e.sourceTimestamp), value: hex(e), latest: true, partitions,
  });
  runHatLmdb({
    command: 'write',
    path,
    map_size: 1 << 24,
    partitions: [{ id: 1, order: 1, subscriptions: [['*']] }, { id: 2, order: 2, subscriptions: [['c']] }],
    events: [stored(a1, [1]), stored(a2, [1]), stored(c, [1, 2]), stored(other, [1])],
  });
  return { a1, a2, c, other };
}

describe('LMDB file compatibility with py-lmdb (LMDB 0.9, Hat 0.8)', () => {
  it('a file written by py-lmdb in Hat\'s layout opens here, answers queries and stays valid for Hat', async () => {
    const conf = c0({
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['*']] },
        { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['c']] },
      ],
    });
    const { a1, a2, c, other } = writeHatFile(conf.db_path);

    const backend = await openBackend(conf);
    expect(backend.store.partitions.map((p) => p.id)).toEqual([1, 2]);
    expect(await backend.getLastEventId(1)).toEqual(c.id);
    expect(await backend.getLastEventId(7)).toEqual(other.id);
    expect((await backend.query({})).map(hex)).toEqual([other, c, a2, a1].map(hex));
    expect(ids(await backend.query({ uniqueType: true }))).toEqual(ids([other, c, a2]));
    expect(ids(await backend.query({ types: [['a', '*']], order: 'ascending' }))).toEqual(ids([a1, a2]));
    expect(ids(await backend.query({ orderBy: 'sourceTimestamp' }))).toEqual(ids([c]));
    expect(ids(await backend.query({ serverId: 7 }))).toEqual(ids([other]));
    expect((await collect(backend.queryFlushed({ server: 1, session: 0, instance: 0 }))).map(ids)).toEqual([ids([a1, a2]), ids([c])]);

    // Writing into Hat's file keeps it valid for Hat.
    const a3 = ev([1, 3, 4], ['a', 'b'], at(5), null, null);
    const d = ev([1, 3, 5], ['d'], at(5), at(1), null);
    await backend.register([a3, d]);
    await backend.close();
    const check = runHatLmdb<ReadAnswer>({ command: 'read', path: conf.db_path });
    expect(check.rows.LATEST_TYPE!.map(([, v]) => Buffer.from(v, 'hex').toString())).toEqual(['["a", "b"]', '["c"]', '["x"]', '["d"]']);
    expect(check.rows.ORDERED_COUNT!.map(([, v]) => Number(Buffer.from(v, 'hex').readBigUInt64BE()))).toEqual([6, 1]);
    expect(check.flushed.map(reencoded)).toEqual([a1, a2, c, a3, d, other].map(hex));
  });

  it('hat-event-ts lmdb reads a file py-lmdb wrote in Hat\'s layout; its copy keeps Hat\'s layout and rows', { timeout: 60_000 }, async () => {
    const { db_path: db } = c0();
    const { a1, a2, c, other } = writeHatFile(db);
    const cwd = path.dirname(db);
    const query = async (...args: string[]) => {
      const result = await runCli(['lmdb', 'query', '--db', db, ...args], { cwd });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      return jsonLines(result.stdout);
    };
    const id = (e: Event) => ({ event_id: e.id });
    expect(await query('ordered')).toMatchObject([a1, a2, c, other, c].map(id));
    expect((await query('ordered')).slice(0, 2)).toMatchObject([{
      event_type: ['a', 'b'], timestamp: timestampToIsoString(a1.timestamp), source_timestamp: null, payload: { type: 'JSON', data: { x: [1, 'é'] } },
    }, { source_timestamp: timestampToIsoString(a2.sourceTimestamp!), payload: { type: 'BINARY', data: '010203' } }]);
    expect(await query('ordered', '--partition-id', '2')).toMatchObject([id(c)]);
    expect(await query('latest')).toMatchObject([a2, c, other].map(id));
    expect(await query('latest', '--server-id', '7')).toMatchObject([{ event_id: other.id, payload: { type: 'SBS', data: { module: 'M', type: 'T', data: '09' } } }]);
    expect(await query('last-event-id')).toEqual([
      { server_id: 1, event_id: c.id, timestamp: timestampToIsoString(c.timestamp) },
      { server_id: 7, event_id: other.id, timestamp: timestampToIsoString(other.timestamp) },
    ]);
    expect(await query('partition')).toEqual([
      { partition_id: 1, order: 1, subscriptions: [['*']], count: 4 },
      { partition_id: 2, order: 2, subscriptions: [['c']], count: 1 },
    ]);
    expect(await runCli(['lmdb', 'verify', '--db', db], { cwd })).toEqual({
      code: 0, stderr: '', stdout: `${db}: 4 events, 3 latest types, 2 partitions with 5 entries: no problems\n`,
    });

    // py-lmdb in the middle of a write, as a running Hat server: the reader neither waits for it
    // nor sees it, and the writer commits afterwards as usual
    const writer = await holdHatWriteTransaction(db);
    expect((await query('last-event-id')).map((row) => (row as { server_id: number }).server_id)).toEqual([1, 7]);
    expect(await writer.release()).toEqual([1, 7, 99]);

    const copy = path.join(cwd, 'copy.db');
    expect((await runCli(['lmdb', 'copy', '--db', db, copy], { cwd })).code).toBe(0);
    const source = runHatLmdb<ReadAnswer>({ command: 'read', path: db });
    const copied = runHatLmdb<ReadAnswer>({ command: 'read', path: copy }); // Hat's invariants are checked by the script
    expect(copied.rows).toEqual(source.rows);
    expect(copied.flushed).toEqual(source.flushed);
  });

  it('hat-event-ts lmdb copy of a file written here (type index, archived events) keeps Hat\'s layout and rows', { timeout: 60_000 }, async () => {
    const conf = c0({ latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['keep', '*']] }] });
    const backend = await openBackend(conf);
    // latest-only events superseded within the window go to the archive partition
    await backend.register([
      ev([1, 1, 1], ['only'], at(1), null, null), ev([1, 1, 2], ['only'], at(2), null, null),
      ev([1, 1, 3], ['keep', 'a'], at(3), at(0), { type: 'json', data: 1.5 }),
    ]);
    await backend.close();
    const cwd = path.dirname(conf.db_path);
    const copy = path.join(cwd, 'copy.db');
    expect((await runCli(['lmdb', 'copy', '--db', conf.db_path, copy], { cwd })).code).toBe(0);
    const source = runHatLmdb<ReadAnswer>({ command: 'read', path: conf.db_path });
    const copied = runHatLmdb<ReadAnswer>({ command: 'read', path: copy });
    expect(Object.keys(copied.partitions)).toHaveLength(2); // the configured one and the archive
    expect(copied.rows).toEqual(source.rows);
    expect(copied.flushed).toHaveLength(3);
    expect((await runCli(['lmdb', 'verify', '--db', copy], { cwd })).code).toBe(0);
  });

  it('a file written here opens in py-lmdb with Hat\'s settings and has Hat\'s layout', async () => {
    const conf = c0({
      latest: { subscriptions: [['a', '*']] },
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['b'], ['a', '*']] },
        { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] },
      ],
    });
    const e1 = ev([2, 1, 1], ['a', 'é'], at(1), at(-1, 999_999), { type: 'json', data: [1, 'x'] });
    const e2 = ev([2, 1, 2], ['b'], at(1), null, { type: 'sbs', data: { module: null, type: 'Integer', data: Uint8Array.of(7) } });
    const e3 = ev([2, 2, 3], ['a', 'é'], at(2), null, null);
    const backend = await openBackend(conf);
    await backend.register([e1, e2]);
    await backend.flush();
    await backend.register([e3]);
    await backend.close();

    const answer = runHatLmdb<ReadAnswer>({ command: 'read', path: conf.db_path });
    expect(answer.lmdb_version.slice(0, 2)).toEqual([0, 9]);
    expect(answer.partitions).toEqual({
      1: { order: 1, subscriptions: [['a', '*'], ['b']] },
      2: { order: 2, subscriptions: [['*']] },
    });
    expect(answer.rows.LATEST_TYPE).toEqual([['0000000000000001', Buffer.from('["a", "\\u00e9"]').toString('hex')]]);
    expect(answer.rows.LATEST_DATA).toEqual([['0000000000000001', hex(e3)]]);
    expect(answer.rows.ORDERED_DATA).toHaveLength(4);
    expect(answer.flushed.map(reencoded)).toEqual([e1, e2, e3].map(hex));
  });

  it("source timestamps a client may send (us of 1e6, 2^31, -1, -2^40) are written as Hat writes them", async () => {
    const conf = c0({
      ordered: [
        { order_by: 'TIMESTAMP', subscriptions: [['*']] },
        { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['s']] },
      ],
    });
    const odd = [1_000_000, 2 ** 31, -1, -(2 ** 40)];
    // keyed by their source time only when Hat's u32 holds it; the others go to TIMESTAMP alone
    const events = odd.map((us, i) => ev([3, 1, i + 1], us >= 0 ? ['s'] : ['t'], at(i), { s: -5, us }, null));
    const backend = await openBackend(conf);
    expect(ids(await backend.register(events))).toEqual(ids(events));
    await backend.close();

    const answer = runHatLmdb<ReadAnswer>({ command: 'read', path: conf.db_path });
    expect(answer.flushed.map(reencoded)).toEqual(events.map(hex));
    const keyOf = (partition: number, e: Event): string => {
      const key = Buffer.alloc(44);
      key.writeBigUInt64BE(BigInt(partition), 0);
      key.writeBigUInt64BE(BigInt(e.sourceTimestamp!.s) + 2n ** 63n, 8);
      key.writeUInt32BE(e.sourceTimestamp!.us, 16); // Hat's struct.pack('>QI', s + 2^63, us)
      key.writeBigUInt64BE(BigInt(e.id.server), 20);
      key.writeBigUInt64BE(BigInt(e.id.session), 28);
      key.writeBigUInt64BE(BigInt(e.id.instance), 36);
      return key.toString('hex');
    };
    const sourceKeys = answer.rows.ORDERED_DATA!.map(([k]) => k).filter((k) => k.startsWith('0000000000000002'));
    expect(sourceKeys).toEqual([keyOf(2, events[0]!), keyOf(2, events[1]!)]);
  });
});
