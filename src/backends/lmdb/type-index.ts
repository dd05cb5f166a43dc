// Our own sub-db beside Hat's seven: for every entry of a configured ordered partition, a key
// u64(partition) ‖ h(event type) ‖ ts(key time) ‖ eid, so "the latest N events of type T" reads
// N index keys instead of scanning every type's entries. h is 8 bytes of a hash of the type: a
// collision only lets another type's entries through, which the query's type filter drops.
// It is written in the same transaction as the entries it indexes, and trimmed by the limits
// cleanup. Hat never opens it, so a file Hat wrote to is caught at open by a per-partition
// meta row (u64(partition) → u64(count) ‖ last ordered key) that no longer matches
// ORDERED_COUNT and the partition's last key; such a partition's index is rebuilt.
import type { EventType } from '../../common/types.ts';
import type { Transaction } from 'lmdb';
import type { BinaryDb, Environment, WriteOp } from './environment.ts';
import { peekStoredEventType } from './event-value.ts';
import { ORDERED_KEY_SIZE, orderedBound, U64_SIZE, u64Bytes, writeU64 } from './keys.ts';
import type { ReadView } from './scan.ts';
import type { Entry } from './sorted-entries.ts';
import { TYPE_HASH_SIZE as HASH_SIZE, typeInfo } from './type-info.ts';

const EMPTY = Buffer.alloc(0);
const REBUILD_CHUNK = 50_000;

export function typeHash(type: EventType): Buffer {
  return typeInfo(type).hash;
}

/** u64(pid) ‖ hash ‖ (ordered key without its pid). */
export function indexKey(orderedKey: Buffer, hash: Buffer): Buffer {
  const key = Buffer.allocUnsafe(orderedKey.length + HASH_SIZE);
  orderedKey.copy(key, 0, 0, U64_SIZE);
  hash.copy(key, U64_SIZE);
  orderedKey.copy(key, U64_SIZE + HASH_SIZE, U64_SIZE);
  return key;
}

export const INDEX_KEY_SIZE = ORDERED_KEY_SIZE + HASH_SIZE;

/** `indexKey` written into `target` (INDEX_KEY_SIZE bytes): the flush's hot path, no buffer made. */
export function writeIndexKey(target: Buffer, orderedKey: Buffer, hash: Buffer): void {
  target.set(orderedKey, HASH_SIZE); // pid lands where the hash goes, time and id where they belong
  target.set(hash, U64_SIZE);
  for (let i = 0; i < U64_SIZE; i++) target[i] = orderedKey[i]!;
}

function indexPutOp(orderedKey: Buffer, type: EventType): WriteOp {
  return { db: 'HAT_EVENT_TS_TYPE_INDEX', key: indexKey(orderedKey, typeHash(type)), value: EMPTY };
}

export function indexDeleteOp(orderedKey: Buffer, storedValue: Uint8Array): WriteOp {
  return { db: 'HAT_EVENT_TS_TYPE_INDEX', key: indexKey(orderedKey, typeHash(peekStoredEventType(storedValue))), value: null };
}

/** The meta row recording what the index of `partitionId` covers. */
export function indexMetaOp(partitionId: number, count: number, lastKey: Buffer | null): WriteOp {
  const value = Buffer.alloc(U64_SIZE + (lastKey?.length ?? 0));
  writeU64(value, 0, count);
  lastKey?.copy(value, U64_SIZE);
  return { db: 'HAT_EVENT_TS_TYPE_INDEX', key: u64Bytes(partitionId), value };
}

/** The newest persisted key of a partition in ORDERED_DATA (of a read snapshot when given), or null. */
export function lastOrderedKey(orderedData: BinaryDb, partitionId: number, transaction?: Transaction): Buffer | null {
  for (const key of orderedData.getKeys({
    start: orderedBound(partitionId, null, true), end: orderedBound(partitionId, null, false), reverse: true, limit: 1, transaction,
  })) return Buffer.from(key);
  return null;
}

/** Rebuilds the index of a partition unless its meta row matches the persisted data. */
export async function ensureIndex(env: Environment, partitionId: number, count: number, lastKey: Buffer | null): Promise<void> {
  const expected = indexMetaOp(partitionId, count, lastKey).value as Buffer;
  const prefix = u64Bytes(partitionId);
  const meta = env.dbs.HAT_EVENT_TS_TYPE_INDEX.getBinary(prefix);
  if (meta !== undefined && Buffer.from(meta).equals(expected)) return;
  await dropIndex(env, { start: prefix, end: u64Bytes(partitionId + 1) });
  let ops: WriteOp[] = [];
  for (const { key, value } of env.dbs.ORDERED_DATA.getRange({
    start: orderedBound(partitionId, null, false), end: orderedBound(partitionId, null, true),
  })) {
    ops.push(indexPutOp(Buffer.from(key), peekStoredEventType(value)));
    if (ops.length >= REBUILD_CHUNK) {
      await env.commit(ops);
      ops = [];
    }
  }
  // The meta row goes last: an interrupted rebuild is found stale and redone at the next open.
  ops.push(indexMetaOp(partitionId, count, lastKey));
  await env.commit(ops);
}

/** Removes the index rows in `range` (all of them without one), in chunks. */
export async function dropIndex(env: Environment, range: { start: Buffer; end: Buffer } | Record<string, never> = {}): Promise<void> {
  let ops: WriteOp[] = [];
  for (const key of env.dbs.HAT_EVENT_TS_TYPE_INDEX.getKeys(range)) {
    ops.push({ db: 'HAT_EVENT_TS_TYPE_INDEX', key: Buffer.from(key), value: null });
    if (ops.length >= REBUILD_CHUNK) {
      await env.commit(ops);
      ops = [];
    }
  }
  await env.commit(ops);
}

/**
 * Persisted entries of the listed (literal) types between the ordered bounds lo..hi, one
 * key-sorted stream per distinct type hash, each entry's value read from ORDERED_DATA.
 */
export function indexedSources(view: ReadView, types: EventType[], lo: Buffer, hi: Buffer, descending: boolean): Iterable<Entry>[] {
  const { dbs, txn: transaction } = view;
  const distinct = new Map<string, Buffer>();
  for (const type of types) {
    const hash = typeHash(type);
    distinct.set(hash.toString('latin1'), hash);
  }
  return [...distinct.values()].map((hash) => {
    const from = indexKey(lo, hash);
    const to = indexKey(hi, hash);
    const keys = dbs.HAT_EVENT_TS_TYPE_INDEX.getKeys(
      descending ? { start: to, end: from, reverse: true, inclusiveEnd: true, transaction } : { start: from, end: to, transaction },
    );
    return {
      *[Symbol.iterator](): Generator<Entry> {
        const lookup = Buffer.allocUnsafe(ORDERED_KEY_SIZE); // lmdb-js copies a key it reads by
        for (const key of keys) {
          orderedKeyInto(lookup, key);
          // get hands back its own copy of the value; the ordered key is built only if
          // a merge compares it.
          const value = dbs.ORDERED_DATA.get(lookup, { transaction });
          if (value !== undefined) yield new IndexedEntry(key, value);
        }
      },
    };
  });
}

/** A persisted entry found through the index. */
class IndexedEntry implements Entry {
  readonly event = null;
  readonly indexKey: Buffer;
  readonly value: Uint8Array;
  #key: Buffer | null = null;

  constructor(indexKeyBytes: Buffer, value: Uint8Array) {
    this.indexKey = indexKeyBytes;
    this.value = value;
  }

  get key(): Buffer {
    return (this.#key ??= orderedKeyInto(Buffer.allocUnsafe(ORDERED_KEY_SIZE), this.indexKey));
  }
}

function orderedKeyInto(target: Buffer, indexKeyBytes: Buffer): Buffer {
  for (let i = 0; i < U64_SIZE; i++) target[i] = indexKeyBytes[i]!;
  for (let i = U64_SIZE; i < ORDERED_KEY_SIZE; i++) target[i] = indexKeyBytes[i + HASH_SIZE]!;
  return target;
}
