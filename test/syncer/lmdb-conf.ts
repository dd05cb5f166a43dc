// The LMDB configuration of the Syncer tests' servers (also used by their child processes, which
// cannot load helpers.ts: it registers vitest hooks). Every event in latest and in both orders.
import type { LmdbBackendConf } from '../../src/backends/lmdb/conf.ts';

export function lmdbConf(dbPath: string, flushPeriod: number): LmdbBackendConf {
  return {
    db_path: dbPath,
    max_db_size: 256 * 1024 * 1024,
    flush_period: flushPeriod,
    conditions: [],
    latest: { subscriptions: [['*']] },
    ordered: [
      { order_by: 'TIMESTAMP', subscriptions: [['*']] },
      { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] },
    ],
  };
}
