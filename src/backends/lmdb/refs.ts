// REF sub-db: event id -> the set of places the event is stored, each ref being
// `0x01 ‖ u64(type_ref)` (LATEST_DATA) or `0x03 ‖ 44-byte ORDERED_DATA key`. queryFlushed walks
// it; writes keep it in step with the data rows so every stored event is reachable by id.
import type { Event, EventId } from '../../common/types.ts';
import { DbType, type Environment, type WriteOp } from './environment.ts';
import { EVENT_ID_SIZE, eventIdBytes, ORDERED_KEY_SIZE, U64_SIZE, writeU64 } from './keys.ts';
import { decodeStoredEvent } from './event-value.ts';

export function latestRef(typeRef: number): Buffer {
  const ref = Buffer.allocUnsafe(1 + U64_SIZE);
  ref[0] = DbType.LATEST_DATA;
  writeU64(ref, 1, typeRef);
  return ref;
}

export function orderedRef(key: Buffer): Buffer {
  const ref = Buffer.allocUnsafe(1 + ORDERED_KEY_SIZE);
  ref[0] = DbType.ORDERED_DATA;
  key.copy(ref, 1);
  return ref;
}

/** Splits a REF value into its refs (each with its tag byte). */
export function splitRefs(value: Buffer): Buffer[] {
  const refs: Buffer[] = [];
  let offset = 0;
  while (offset < value.length) {
    const tag = value[offset];
    const size = tag === DbType.LATEST_DATA ? U64_SIZE : tag === DbType.ORDERED_DATA ? ORDERED_KEY_SIZE : -1;
    if (size < 0 || offset + 1 + size > value.length) throw new Error(`corrupt REF value (tag ${tag} at ${offset})`);
    refs.push(value.subarray(offset, offset + 1 + size));
    offset += 1 + size;
  }
  return refs;
}

/**
 * Ref-set edits for one write transaction. Sets are read from the committed data once and then
 * kept here, so several edits of one event within the transaction compose. Reading committed
 * data ahead of the batched write is safe because flush and cleanup never run concurrently.
 */
export class RefChanges {
  readonly #env: Environment;
  readonly #sets = new Map<string, { key: Buffer; refs: Buffer[] }>();

  constructor(env: Environment) {
    this.#env = env;
  }

  add(id: EventId, ref: Buffer): void {
    const set = this.#load(id);
    if (!set.refs.some((r) => r.equals(ref))) set.refs.push(ref);
  }

  /** Removes `ref`; true when the set of `id` (committed, with the edits so far) is then empty. */
  remove(id: EventId, ref: Buffer): boolean {
    const set = this.#load(id);
    set.refs = set.refs.filter((r) => !r.equals(ref));
    return set.refs.length === 0;
  }

  ops(): WriteOp[] {
    const ops: WriteOp[] = [];
    for (const { key, refs } of this.#sets.values()) {
      ops.push({ db: 'REF', key, value: refs.length > 0 ? Buffer.concat(refs) : null });
    }
    return ops;
  }

  #load(id: EventId): { key: Buffer; refs: Buffer[] } {
    const key = eventIdBytes(id);
    const mapKey = key.toString('latin1');
    let set = this.#sets.get(mapKey);
    if (set === undefined) {
      const value = this.#env.dbs.REF.getBinary(key);
      set = { key, refs: value === undefined ? [] : splitRefs(Buffer.from(value)) };
      this.#sets.set(mapKey, set);
    }
    return set;
  }
}

/**
 * Flushed events of `after.server` with ids strictly greater than `after`, one list per
 * session, from one read snapshot of the committed data (pending changes never appear).
 */
export async function* queryFlushed(env: Environment, after: EventId): AsyncGenerator<Event[]> {
  const start = eventIdBytes(after);
  const end = Buffer.alloc(EVENT_ID_SIZE, 0);
  writeU64(end, 0, after.server + 1);
  const txn = env.root.useReadTransaction();
  try {
    let session: Event[] = [];
    for (const { value } of env.dbs.REF.getRange({ start, end, exclusiveStart: true, transaction: txn })) {
      const event = loadRef(env, splitRefs(value)[0], txn);
      if (event === null) continue;
      if (session.length > 0 && session[0]!.id.session !== event.id.session) {
        yield session;
        session = [];
      }
      session.push(event);
    }
    if (session.length > 0) yield session;
  } finally {
    txn.done();
  }
}

function loadRef(env: Environment, ref: Buffer | undefined, transaction: ReturnType<Environment['root']['useReadTransaction']>): Event | null {
  if (ref === undefined) return null;
  const db = ref[0] === DbType.LATEST_DATA ? env.dbs.LATEST_DATA : env.dbs.ORDERED_DATA;
  const value = db.get(ref.subarray(1), { transaction });
  return value === undefined ? null : decodeStoredEvent(value);
}
