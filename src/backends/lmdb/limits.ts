// Partition limits (docs/storage.md, "Limits"): drop the oldest persisted entries of a partition
// while it holds more than max_entries (capped by size / average entry size of the whole
// ORDERED_DATA db) or entries older than now − duration, never going below min_entries.
// At most 100 removals per write transaction; passes repeat while a pass removed 100.
import { compareTimestamps, timestampAdd } from '../../common/timestamp.ts';
import type { Timestamp } from '../../common/types.ts';
import type { Environment, WriteOp } from './environment.ts';
import { orderedBound, orderedKeyEventId, orderedKeyTime, u64Bytes } from './keys.ts';
import type { OrderedPartition } from './ordered.ts';
import { orderedRef, RefChanges } from './refs.ts';
import { indexDeleteOp, indexMetaOp } from './type-index.ts';

const REMOVALS_PER_TXN = 100;

/** Runs limit passes until no partition removed a full batch. Caller serialises with flush. */
export async function applyLimits(env: Environment, partitions: OrderedPartition[], now: Timestamp): Promise<void> {
  for (;;) {
    let again = false;
    for (const partition of partitions) {
      if (partition.limit === null) continue;
      const removed = await applyLimitPass(env, partition, now);
      if (removed >= REMOVALS_PER_TXN) again = true;
    }
    if (!again) return;
    await new Promise((resolve) => setImmediate(resolve)); // let registers and queries in
  }
}

/** One write transaction for one partition; returns the number of entries removed. */
async function applyLimitPass(env: Environment, partition: OrderedPartition, now: Timestamp): Promise<number> {
  const limit = partition.limit;
  if (limit === null) return 0;
  const minEntries = limit.min_entries ?? 0;
  let maxEntries = limit.max_entries ?? null;
  if (limit.size !== undefined) {
    const stats = env.dbs.ORDERED_DATA.getStats() as Record<string, number>;
    const entries = stats.entryCount ?? 0;
    if (entries > 0) {
      const pages = (stats.treeBranchPageCount ?? 0) + (stats.treeLeafPageCount ?? 0) + (stats.overflowPages ?? 0);
      const average = ((stats.pageSize ?? 4096) * pages) / entries;
      const bySize = Math.floor(limit.size / average);
      maxEntries = maxEntries === null ? bySize : Math.min(maxEntries, bySize);
    }
  }
  const cutoff = limit.duration === undefined ? null : timestampAdd(now, -limit.duration);

  let count = partition.count;
  const ops: WriteOp[] = [];
  const refs = new RefChanges(env);
  const range = env.dbs.ORDERED_DATA.getRange({
    start: orderedBound(partition.id, null, false),
    end: orderedBound(partition.id, null, true),
  });
  for (const { key, value } of range) {
    if (ops.length >= REMOVALS_PER_TXN || count <= minEntries) break;
    const withinCount = maxEntries === null || count <= maxEntries;
    const withinTime = cutoff === null || compareTimestamps(orderedKeyTime(key), cutoff) >= 0;
    if (withinCount && withinTime) break;
    ops.push({ db: 'ORDERED_DATA', key, value: null });
    if (partition.indexed) ops.push(indexDeleteOp(key, value));
    refs.remove(orderedKeyEventId(key), orderedRef(key));
    count -= 1;
  }
  const removed = ops.length;
  if (removed === 0) return 0;
  const lastKey = count === 0 ? null : partition.lastKey;
  ops.push({ db: 'ORDERED_COUNT', key: u64Bytes(partition.id), value: u64Bytes(count) }, ...refs.ops());
  if (partition.indexed) ops.push(indexMetaOp(partition.id, count, lastKey));
  await env.commit(ops);
  partition.count = count;
  partition.lastKey = lastKey;
  return removed;
}
