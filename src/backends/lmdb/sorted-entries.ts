// Ordered-key entries and the merge of several key-sorted sources (persisted range scan,
// entries being flushed, pending entries) into one sorted stream.
import type { Event, Timestamp } from '../../common/types.ts';
import { orderedKey } from './keys.ts';

/** `event` is null for a persisted entry whose `value` is decoded only when it is used. */
export interface Entry {
  key: Buffer;
  event: Event | null;
  value: Uint8Array;
}

/**
 * An entry held in memory (pending or being flushed), with its encoded value. Its key is built
 * only when something needs it (a query); the flush writes keys of its own (ordered.ts).
 */
export class PendingEntry implements Entry {
  readonly partitionId: number;
  readonly time: Timestamp;
  readonly event: Event;
  readonly value: Uint8Array;
  /** the store's acceptance number of the event (-1: not accepted in this flush window) */
  readonly seq: number;
  /** its type's hash in our type index (type-info.ts), found once at register */
  readonly typeHash: Buffer;
  #key: Buffer | null = null;

  constructor(partitionId: number, time: Timestamp, event: Event, value: Uint8Array, seq: number, typeHash: Buffer) {
    this.partitionId = partitionId;
    this.time = time;
    this.event = event;
    this.value = value;
    this.seq = seq;
    this.typeHash = typeHash;
  }

  get key(): Buffer {
    return (this.#key ??= orderedKey(this.partitionId, this.time, this.event.id));
  }
}

/** A copy of the entries of a key-sorted array with lo <= key <= hi. */
export function sortedRange<T extends Entry>(entries: readonly T[], lo: Buffer, hi: Buffer): T[] {
  if (entries.length === 0) return [];
  return entries.slice(lowerIndex(entries, lo, false), lowerIndex(entries, hi, true));
}

/** The entries of a key-sorted array in the wanted direction. */
export function* walkSorted<T>(entries: readonly T[], descending: boolean): Generator<T> {
  if (descending) for (let i = entries.length - 1; i >= 0; i--) yield entries[i]!;
  else for (let i = 0; i < entries.length; i++) yield entries[i]!;
}

/** First index whose key is > bound (inclusive) or >= bound (not inclusive). */
function lowerIndex(entries: readonly Entry[], bound: Buffer, inclusive: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(entries[mid]!.key, bound);
    if (c < 0 || (inclusive && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Lazily merges sources sorted in the same direction. Equal keys (an entry just committed
 * while still held in memory) come out once, the earliest source's copy being dropped in
 * favour of the later in-memory one.
 */
export function* mergeSorted(sources: Iterable<Entry>[], descending: boolean): Generator<Entry, void, undefined> {
  const sign = descending ? -1 : 1;
  const iterators = sources.map((s) => s[Symbol.iterator]());
  const heads = iterators.map((it) => next(it));
  // Closing the sources matters when the consumer stops early: an lmdb range holds a cursor.
  try {
    const live = heads.filter((head) => head !== undefined).length;
    if (live === 1) {
      // The common case (nothing pending in range): no comparisons, no read-ahead.
      const only = heads.findIndex((head) => head !== undefined);
      yield heads[only]!;
      for (let r = iterators[only]!.next(); !r.done; r = iterators[only]!.next()) yield r.value;
      return;
    }
    yield* mergeHeads(iterators, heads, sign);
  } finally {
    for (const it of iterators) it.return?.();
  }
}

function* mergeHeads(iterators: Iterator<Entry>[], heads: (Entry | undefined)[], sign: number): Generator<Entry> {
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === undefined) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const c = sign * Buffer.compare(head.key, heads[best]!.key);
      if (c < 0) best = i;
      else if (c === 0) {
        heads[best] = next(iterators[best]!); // duplicate of a later source: keep the later one
        best = i;
      }
    }
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = next(iterators[best]!);
  }
}

function next(it: Iterator<Entry>): Entry | undefined {
  const r = it.next();
  return r.done ? undefined : r.value;
}
