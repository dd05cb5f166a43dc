// What the LMDB and Syncer benchmarks store: N events in 100-event sessions over 1000 event types
// (round robin), in a temp file with every event in latest and in one TIMESTAMP ordering.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openLmdbBackend } from '../src/backends/lmdb/backend.ts';
import type { LmdbBackendConf } from '../src/backends/lmdb/conf.ts';
import type { Event, EventType } from '../src/common/types.ts';

export const SESSION = 100;
export const TYPES = 1000;
const T0 = 1_700_000_000;

export const typeOf = (i: number): EventType => ['bench', String(i % TYPES)];

/** Event `i` of server 1 (session `i / SESSION + 1`, instance `i + 1`). */
export function makeEvent(i: number): Event {
  const session = Math.floor(i / SESSION) + 1;
  return {
    id: { server: 1, session, instance: i + 1 },
    type: typeOf(i),
    timestamp: { s: T0 + Math.floor(i / 1000), us: (i % 1000) * 1000 },
    sourceTimestamp: { s: T0 + Math.floor(i / 1000), us: 0 },
    payload: { type: 'json', data: { value: i, quality: 'good' } },
  };
}

export function benchLmdbConf(dbPath: string, flushPeriod: number): LmdbBackendConf {
  return {
    db_path: dbPath,
    max_db_size: 4 * 1024 ** 3,
    flush_period: flushPeriod,
    conditions: [],
    latest: { subscriptions: [['*']] },
    ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
  };
}

const tmpDirs: string[] = [];

/** A database path in a new temp folder; `removeTempDbs` deletes them all. */
export function tempDb(prefix = 'hat-lmdb-bench-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return path.join(dir, 'events.db');
}

export function removeTempDbs(): void {
  for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Register + flush of `makeEvent(0..n-1)` through the backend, yielding between sessions; events/s. */
export async function backendWrite(dbPath: string, n: number, flushPeriod: number): Promise<number> {
  const backend = await openLmdbBackend(benchLmdbConf(dbPath, flushPeriod), { cleanup: false });
  const start = performance.now();
  for (let from = 0; from < n; from += SESSION) {
    const events: Event[] = [];
    for (let i = from; i < Math.min(from + SESSION, n); i++) events.push(makeEvent(i));
    const result = await backend.register(events);
    if (result[0] === null) throw new Error('event rejected');
    await new Promise((resolve) => setImmediate(resolve));
  }
  await backend.flush();
  const rate = n / ((performance.now() - start) / 1000);
  await backend.close();
  return rate;
}
