// The reserved archive partition of superseded latest-only events (src/backends/lmdb/archive.ts)
// as Hat's own reader sees it through py-lmdb: an ordinary stale partition row, and the archived
// events reachable through REF as Hat's query_flushed walks it. Needs Debian's python3-lmdb
// (`npm run test:interop`). The backend's side of it: test/backends/lmdb/archive.test.ts.
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/sbs/event-codec.ts';
import { c0, E, ids, openBackend, reopen } from '../backends/lmdb/helpers.ts';
import { runHatLmdb } from './python-helpers.ts';

interface ReadAnswer {
  rows: Record<string, [string, string][]>;
  flushed: [string, string][];
}

const text = (hex: string): string => Buffer.from(hex, 'hex').toString('utf8');
const u64 = (hex: string): number => Number(Buffer.from(hex, 'hex').readBigUInt64BE());

describe('the archive partition in py-lmdb (Hat 0.8\'s reader)', () => {
  it('is a stale partition row beside the configured ones, and its events are reachable by REF', async () => {
    const conf = c0({ ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['b']] }] });
    let backend = await openBackend(conf);
    // a1 is superseded within the window, a2 by a3 in a later one: both are archived
    const first = [E('a'), E('b'), E('a')];
    await backend.register(first);
    await backend.flush();
    const a3 = E('a', { session: 2 });
    await backend.register([a3]);
    // a partition added on reopen takes the next free id, after the archive's
    backend = await reopen(backend, { ...conf, ordered: [...conf.ordered, { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] }] });
    await backend.close();

    const answer = runHatLmdb<ReadAnswer>({ command: 'read', path: conf.db_path });
    expect(answer.rows.ORDERED_PARTITION!.map(([k, v]) => [u64(k), text(v)])).toEqual([
      [1, '{"order": 1, "subscriptions": [["b"]]}'],
      [2, '{"order": 1, "subscriptions": [], "hat_event_ts": "superseded latest-only events"}'],
      [3, '{"order": 2, "subscriptions": [["*"]]}'],
    ]);
    expect(answer.rows.ORDERED_COUNT!.map(([k, v]) => [u64(k), u64(v)])).toEqual([[1, 1], [2, 2]]);
    const hatFlushed = answer.flushed.map(([, v]) => decodeEvent(Buffer.from(v, 'hex')));
    expect(ids(hatFlushed)).toEqual(ids([...first, a3]));
  });

  it('a file without superseded latest-only events has no archive row', async () => {
    const conf = c0();
    const backend = await openBackend(conf);
    await backend.register([E('a'), E('a')]);
    await backend.close();
    const answer = runHatLmdb<ReadAnswer>({ command: 'read', path: conf.db_path });
    expect(answer.rows.ORDERED_PARTITION).toHaveLength(1);
  });
});
