// One ordered partition of ORDERED_DATA: events of its subscription keyed by
// (partition id, key time, event id), so a range scan is a time-ordered query. Pending
// entries are kept sorted by the same key ([Q]: Hat keeps them in registration order) and a
// query merges them with the persisted ones (query.ts), so answers do not depend on when the
// last flush happened.
import type { Subscription } from '../../common/subscription.ts';
import type { Event, Timestamp } from '../../common/types.ts';
import type { LimitConf, OrderByName } from './conf.ts';
import { compareKeyParts, ORDERED_KEY_SIZE, u64Bytes, writeOrderedKey } from './keys.ts';
import { scratchKeys, writeOps, type RowSink } from './row-batch.ts';
import { mergeSorted, PendingEntry, sortedRange } from './sorted-entries.ts';
import { INDEX_KEY_SIZE, indexMetaOp, writeIndexKey } from './type-index.ts';
import type { TypeInfo } from './type-info.ts';

const EMPTY = Buffer.alloc(0);

export class OrderedPartition {
  readonly id: number;
  readonly orderBy: OrderByName;
  readonly subscription: Subscription;
  readonly limit: LimitConf | null;
  /** persisted entries, as written in ORDERED_COUNT */
  count: number;
  /** the newest persisted key (null: none); with `count`, what the type index covers */
  lastKey: Buffer | null = null;
  /** whether the type index (type-index.ts) covers this partition */
  indexed = false;
  #pending: PendingEntry[] = [];
  /** entries of a flush in progress: no longer pending, maybe not yet visible on disk */
  #flushing: PendingEntry[] = [];

  constructor(id: number, orderBy: OrderByName, subscription: Subscription, limit: LimitConf | null, count: number) {
    this.id = id;
    this.orderBy = orderBy;
    this.subscription = subscription;
    this.limit = limit;
    this.count = count;
  }

  keyTime(event: Event): Timestamp | null {
    return this.orderBy === 'TIMESTAMP' ? event.timestamp : event.sourceTimestamp;
  }

  /** Adds `event` (accepted as number `seq`) to the pending entries if it belongs here; true when stored. */
  add(event: Event, value: Uint8Array, seq: number, type: TypeInfo): boolean {
    if (!this.subscription.matches(event.type)) return false;
    const time = this.keyTime(event);
    if (time === null) return false;
    const entry = new PendingEntry(this.id, time, event, value, seq, type.hash);
    const pending = this.#pending;
    const last = pending[pending.length - 1];
    // Compared by numbers, which order like the keys, so no key is built here.
    if (last === undefined || compareKeyParts(last.time, last.event.id, time, event.id) < 0) {
      pending.push(entry);
    } else {
      let lo = 0;
      let hi = pending.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const m = pending[mid]!;
        if (compareKeyParts(m.time, m.event.id, time, event.id) < 0) lo = mid + 1;
        else hi = mid;
      }
      pending.splice(lo, 0, entry);
    }
    return true;
  }

  takePending(): PendingEntry[] {
    const taken = this.#pending;
    this.#pending = [];
    this.#flushing = taken;
    return taken;
  }

  /** The flush committed (`ok`) or failed, in which case its entries become pending again. */
  flushDone(taken: PendingEntry[], ok: boolean): void {
    this.#flushing = [];
    if (ok) {
      this.count += taken.length;
      this.lastKey = this.#lastKeyWith(taken);
    } else if (taken.length > 0) {
      this.#pending = [...mergeSorted([taken, this.#pending], false)] as PendingEntry[];
    }
  }

  /** Issues the rows of `taken`, its count and (when indexed) its type index rows. */
  writeRows(sink: RowSink, taken: PendingEntry[]): void {
    if (taken.length === 0) return;
    const key = scratchKeys.of(ORDERED_KEY_SIZE);
    const indexKey = this.indexed ? scratchKeys.of(INDEX_KEY_SIZE) : null;
    for (let i = 0; i < taken.length; i++) {
      const entry = taken[i]!;
      writeOrderedKey(key, this.id, entry.time, entry.event.id);
      sink.put('ORDERED_DATA', key, entry.value);
      if (indexKey !== null) {
        writeIndexKey(indexKey, key, entry.typeHash);
        sink.put('HAT_EVENT_TS_TYPE_INDEX', indexKey, EMPTY);
      }
    }
    const count = this.count + taken.length;
    writeOps(sink, [{ db: 'ORDERED_COUNT', key: u64Bytes(this.id), value: u64Bytes(count) }]);
    if (this.indexed) writeOps(sink, [indexMetaOp(this.id, count, this.#lastKeyWith(taken))]);
  }

  #lastKeyWith(taken: PendingEntry[]): Buffer | null {
    const last = taken[taken.length - 1]?.key ?? null;
    if (last === null) return this.lastKey;
    return this.lastKey === null || Buffer.compare(last, this.lastKey) > 0 ? last : this.lastKey;
  }

  /**
   * The entries not yet readable from the file with keys in lo..hi, in key order: those of a
   * flush in progress and the pending ones. Copies, so they stay what they were while a
   * reader thread reads the committed ones (an entry in both is merged once).
   */
  unflushed(lo: Buffer, hi: Buffer): [PendingEntry[], PendingEntry[]] {
    return [sortedRange(this.#flushing, lo, hi), sortedRange(this.#pending, lo, hi)];
  }
}
