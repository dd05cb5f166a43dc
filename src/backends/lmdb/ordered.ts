// One ordered partition of ORDERED_DATA: events of its subscription keyed by
// (partition id, key time, event id), so a range scan is a time-ordered query. Pending
// entries are kept sorted by the same key ([Q]: Hat keeps them in registration order) and
// merged with the persisted ones, so answers do not depend on when the last flush happened.
import { eventTypeKey } from '../../common/event-type.ts';
import type { CompleteQueryData } from '../../common/query-data.ts';
import { Subscription } from '../../common/subscription.ts';
import type { Event, Timestamp } from '../../common/types.ts';
import { eventFilter } from '../query-pipeline.ts';
import type { Conditions } from './conditions.ts';
import type { LimitConf, OrderByName } from './conf.ts';
import type { Environment } from './environment.ts';
import { decodeStoredEvent, peekStoredEventType } from './event-value.ts';
import { compareKeyParts, ORDERED_KEY_SIZE, orderedBound, u64Bytes, writeOrderedKey } from './keys.ts';
import { scratchKeys, writeOps, type RowSink } from './row-batch.ts';
import { mergeSorted, PendingEntry, sortedSlice, type Entry } from './sorted-entries.ts';
import { INDEX_KEY_SIZE, indexedSources, indexMetaOp, writeIndexKey } from './type-index.ts';
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

  /** Spec 4.8 C: filters, unique type and max results over pending and persisted entries. */
  query(env: Environment, q: CompleteQueryData, typeFilter: Subscription | null, conditions: Conditions): Event[] {
    if (q.maxResults !== null && q.maxResults <= 0) return [];
    const [from, to] = this.orderBy === 'TIMESTAMP' ? [q.tFrom, q.tTo] : [q.sourceTFrom, q.sourceTTo];
    const lo = orderedBound(this.id, from, false);
    const hi = orderedBound(this.id, to, true);
    const descending = q.order === 'descending';
    const literalTypes = q.types !== null && q.types.every((t) => !t.includes('*') && !t.includes('?'));
    const persisted: Iterable<Entry>[] = this.indexed && literalTypes
      ? indexedSources(env, q.types!, lo, hi, descending)
      : [env.dbs.ORDERED_DATA.getRange(
        descending ? { start: hi, end: lo, reverse: true, inclusiveEnd: true } : { start: lo, end: hi },
      ).map(({ key, value }): Entry => ({ key, event: null, value }))];
    const sources = [
      ...persisted,
      sortedSlice(this.#flushing, lo, hi, descending),
      sortedSlice(this.#pending, lo, hi, descending),
    ];
    // Types are checked here, on the stored type before decoding: not again in the filter.
    const accept = eventFilter({ ...q, types: null });
    const seenTypes = q.uniqueType ? new Set<string>() : null;
    const results: Event[] = [];
    for (const entry of mergeSorted(sources, descending)) {
      let event = entry.event;
      if (event === null) {
        if (typeFilter !== null && !typeFilter.matches(peekStoredEventType(entry.value))) continue;
        event = decodeStoredEvent(entry.value);
        if (!conditions.empty && !conditions.matches(event)) continue;
      } else if (typeFilter !== null && !typeFilter.matches(event.type)) continue;
      if (!accept(event)) continue;
      if (seenTypes !== null) {
        const typeKey = eventTypeKey(event.type);
        if (seenTypes.has(typeKey)) continue;
        seenTypes.add(typeKey);
      }
      results.push(event);
      if (q.maxResults !== null && results.length >= q.maxResults) break;
    }
    return results;
  }
}
