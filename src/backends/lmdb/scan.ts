// The committed part of an ordered query (docs/storage.md, "Queries"): the persisted entries of one
// partition between two ordered keys — by a range scan, through the type index (literal
// types), or by looking the query's event ids up in REF — filtered, unique-typed and capped.
// Matches come back as their stored bytes, which are the events' wire encoding, so an answer
// that needs no filter is never decoded. The same code runs on a reader thread (readers/) and,
// for a query that stays small, on the main thread.
import type { Transaction } from 'lmdb';
import { eventIdKey } from '../../common/event-id.ts';
import { eventTypeKey } from '../../common/event-type.ts';
import type { CompleteQueryData } from '../../common/query-data.ts';
import { Subscription } from '../../common/subscription.ts';
import type { Event, EventId, EventType } from '../../common/types.ts';
import { eventFilter } from '../query-pipeline.ts';
import type { Conditions } from './conditions.ts';
import { DbType, type AnyDbName, type BinaryDb } from './environment.ts';
import { decodeStoredEvent, peekStoredEventType } from './event-value.ts';
import { eventIdBytes, ORDERED_KEY_SIZE, readU64 } from './keys.ts';
import { splitRefs } from './refs.ts';
import { mergeSorted, type Entry } from './sorted-entries.ts';
import { indexedSources } from './type-index.ts';

/** The sub-dbs and the snapshot to read them in (undefined: lmdb-js's current read transaction). */
export interface ReadView {
  dbs: Readonly<Record<AnyDbName, BinaryDb>>;
  txn: Transaction | undefined;
  /**
   * ORDERED_DATA again, opened so that a range scan's keys and values are views of lmdb-js's
   * own read buffers, valid only until the iteration moves on (borrowed-range.ts); a plain range
   * scan then allocates nothing per entry. Only a lone range scan uses it (several iterators
   * would share those buffers).
   */
  borrowedRange?: BinaryDb;
}

/** What to read: plain data, so it crosses to a reader thread as is. */
export interface ScanPlan {
  partitionId: number;
  /** inclusive ordered-key bounds */
  lo: Uint8Array;
  hi: Uint8Array;
  descending: boolean;
  /** literal types read through the type index (null: the whole key range) */
  indexTypes: EventType[] | null;
  /** event ids looked up in REF (null: no id filter) */
  ids: EventId[] | null;
  /** stop after this many matches */
  cap: number;
  /** also return each match's ordered key (to merge it with unflushed entries) */
  withKeys: boolean;
}

export interface ScanResult {
  count: number;
  /** where match i starts in `values`, and where the last ends: count + 1 offsets */
  offsets: Uint32Array;
  /** the matches' stored values (SBS `HatEventer.Event`), back to back */
  values: Uint8Array;
  /** count × ORDERED_KEY_SIZE bytes when asked for, else null */
  keys: Uint8Array | null;
  /** it stopped at the cap: more entries may match */
  capped: boolean;
}

/** What is checked per entry, built from the query on the thread that scans. */
export interface ScanFilter {
  types: Subscription | null;
  /** the query's filters that the key range and the id lookup do not already imply (null: none) */
  check: ((event: Event) => boolean) | null;
  conditions: Conditions;
  uniqueType: boolean;
}

export function scanFilter(q: CompleteQueryData, conditions: Conditions): ScanFilter {
  // The key range holds exactly the partition's key times in bounds, and REF only the ids asked.
  const byTimestamp = q.orderBy === 'timestamp';
  const rest: CompleteQueryData = {
    ...q,
    types: null,
    ids: null,
    tFrom: byTimestamp ? null : q.tFrom,
    tTo: byTimestamp ? null : q.tTo,
    sourceTFrom: byTimestamp ? q.sourceTFrom : null,
    sourceTTo: byTimestamp ? q.sourceTTo : null,
  };
  const needsCheck = rest.serverId !== null || rest.tFrom !== null || rest.tTo !== null ||
    rest.sourceTFrom !== null || rest.sourceTTo !== null || rest.payload !== null;
  return {
    types: q.types === null ? null : new Subscription(q.types),
    check: needsCheck ? eventFilter(rest) : null,
    conditions,
    uniqueType: q.uniqueType,
  };
}

/**
 * The matches in key order (descending if asked). With a `budget`, gives up (null) once it
 * has visited that many entries: the caller then sends the query to a reader thread.
 */
export function scanPartition(view: ReadView, plan: ScanPlan, filter: ScanFilter, budget = Infinity): ScanResult | null {
  if (plan.ids !== null && plan.ids.length > budget) return null;
  const out = new ScanOutput(plan.withKeys);
  const { types, check, conditions, uniqueType } = filter;
  const seenTypes = uniqueType ? new Set<string>() : null;
  const decode = check !== null || !conditions.empty;
  let visited = 0;
  let capped = false;
  const streams = sources(view, plan);
  const entries: Iterable<KeyValue> = streams.length === 1 ? streams[0]! : mergeSorted(streams.map(asEntries), plan.descending);
  for (const entry of entries) {
    if (++visited > budget) return null;
    const value = entry.value;
    let type: EventType | null = null;
    if (types !== null) {
      type = peekStoredEventType(value);
      if (!types.matches(type)) continue;
    }
    if (decode) {
      const event = decodeStoredEvent(value);
      if (!conditions.empty && !conditions.matches(event)) continue;
      if (check !== null && !check(event)) continue;
    }
    if (seenTypes !== null) {
      const typeKey = eventTypeKey(type ?? peekStoredEventType(value));
      if (seenTypes.has(typeKey)) continue;
      seenTypes.add(typeKey);
    }
    out.add(entry.key, value);
    if (out.count >= plan.cap) {
      capped = true;
      break;
    }
  }
  return out.result(capped);
}

/** A stored entry as lmdb-js yields it (on a borrowed range, a plain Uint8Array view). */
interface KeyValue {
  key: Buffer;
  value: Uint8Array;
}

const asEntries = (stream: Iterable<KeyValue>): Iterable<Entry> =>
  ({ *[Symbol.iterator]() { for (const { key, value } of stream) yield { key, event: null, value }; } });

/** Key-sorted streams of stored entries (one, unless the index is read for several types). */
function sources(view: ReadView, plan: ScanPlan): Iterable<KeyValue>[] {
  const lo = Buffer.from(plan.lo.buffer, plan.lo.byteOffset, plan.lo.length);
  const hi = Buffer.from(plan.hi.buffer, plan.hi.byteOffset, plan.hi.length);
  if (plan.ids !== null) return [idEntries(view, plan.ids, plan.partitionId, lo, hi, plan.descending)];
  if (plan.indexTypes !== null) return indexedSources(view, plan.indexTypes, lo, hi, plan.descending);
  return [(view.borrowedRange ?? view.dbs.ORDERED_DATA).getRange(plan.descending
    ? { start: hi, end: lo, reverse: true, inclusiveEnd: true, transaction: view.txn }
    : { start: lo, end: hi, transaction: view.txn })];
}

/**
 * The partition's entries of the given ids within lo..hi, in key order: REF maps each id to
 * its ordered keys (one per partition holding it), so the cost follows the ids, not the store.
 */
function idEntries(view: ReadView, ids: EventId[], partitionId: number, lo: Buffer, hi: Buffer, descending: boolean): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    const idKey = eventIdKey(id);
    if (seen.has(idKey) || !isStorableId(id)) continue;
    seen.add(idKey);
    const refs = view.dbs.REF.get(eventIdBytes(id), { transaction: view.txn });
    if (refs === undefined) continue;
    for (const ref of splitRefs(refs)) {
      if (ref[0] !== DbType.ORDERED_DATA || readU64(ref, 1) !== partitionId) continue;
      const key = ref.subarray(1);
      if (Buffer.compare(key, lo) < 0 || Buffer.compare(key, hi) > 0) continue;
      const value = view.dbs.ORDERED_DATA.get(key, { transaction: view.txn });
      if (value !== undefined) entries.push({ key, event: null, value });
    }
  }
  const sign = descending ? -1 : 1;
  return entries.sort((a, b) => sign * Buffer.compare(a.key, b.key));
}

/** An id the file layout can hold (a query may name any integers; no stored event has others). */
function isStorableId(id: EventId): boolean {
  return [id.server, id.session, id.instance].every((n) => Number.isSafeInteger(n) && n >= 0);
}

/** The growing output of a scan, in buffers of their own (they are transferred, not copied). */
class ScanOutput {
  count = 0;
  #values = new Uint8Array(64 * 1024);
  #size = 0;
  #offsets = new Uint32Array(1024);
  #keys: Uint8Array | null;

  constructor(withKeys: boolean) {
    this.#keys = withKeys ? new Uint8Array(1024 * ORDERED_KEY_SIZE) : null;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    const i = this.count;
    if (i + 2 > this.#offsets.length) this.#offsets = grown(this.#offsets, i + 2);
    if (this.#size + value.length > this.#values.length) this.#values = grown(this.#values, this.#size + value.length);
    this.#values.set(value, this.#size);
    this.#offsets[i] = this.#size;
    this.#size += value.length;
    if (this.#keys !== null) {
      if ((i + 1) * ORDERED_KEY_SIZE > this.#keys.length) this.#keys = grown(this.#keys, (i + 1) * ORDERED_KEY_SIZE);
      this.#keys.set(key, i * ORDERED_KEY_SIZE);
    }
    this.count = i + 1;
  }

  result(capped: boolean): ScanResult {
    this.#offsets[this.count] = this.#size;
    return {
      count: this.count,
      offsets: this.#offsets.subarray(0, this.count + 1),
      values: this.#values.subarray(0, this.#size),
      keys: this.#keys?.subarray(0, this.count * ORDERED_KEY_SIZE) ?? null,
      capped,
    };
  }
}

function grown<T extends Uint8Array | Uint32Array>(array: T, atLeast: number): T {
  let size = array.length * 2;
  while (size < atLeast) size *= 2;
  const bigger = new (array.constructor as new (n: number) => T)(size);
  bigger.set(array);
  return bigger;
}
