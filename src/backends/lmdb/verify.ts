// The invariants of an event database file (`lmdb verify`), checked on one read snapshot:
// row sizes and encodings, REF sets against the rows they point at and back, ORDERED_COUNT
// against the partitions' rows, SYSTEM's last ids against the stored events, and our type index
// against the partitions it claims to cover. Findings stream out as they are found; a row that
// cannot be read at all is one finding, never the end of the check.
import { compareEventIds, eventIdKey, eventIdsEqual } from '../../common/event-id.ts';
import { eventTypeKey } from '../../common/event-type.ts';
import { describeError } from '../../common/describe-error.ts';
import { timestampsEqual, timestampToIsoString } from '../../common/timestamp.ts';
import type { Event, EventId, JsonValue, Timestamp } from '../../common/types.ts';
import { isArchiveIdentity } from './archive.ts';
import { DbType, type BinaryDb } from './environment.ts';
import { decodeStoredEvent } from './event-value.ts';
import {
  EVENT_ID_SIZE, eventIdBytes, ORDERED_KEY_SIZE, orderedKeyEventId, orderedKeyTime, readEventId, readSystemValue,
  readU64, TIMESTAMP_SIZE, U64_SIZE, u64Bytes,
} from './keys.ts';
import type { ReadOnlyEnvironment, Row } from './read-only.ts';
import { latestRef, orderedRef, splitRefs } from './refs.ts';
import { indexKey, indexMetaOp, lastOrderedKey, typeHash } from './type-index.ts';

export interface Finding {
  /** false: worth knowing, not a fault (e.g. a type index the server rebuilds at its next open) */
  problem: boolean;
  /** the table and row, e.g. `REF 1/4/2` */
  where: string;
  message: string;
}

export interface VerifySummary {
  /** REF rows: the events reachable by id */
  events: number;
  latestTypes: number;
  partitions: number;
  orderedEntries: number;
  problems: number;
  notes: number;
}

interface Partition {
  order: 1 | 2;
  /** our type index claims to cover exactly its rows (its meta row matches ORDERED_COUNT and the last key) */
  indexed: boolean;
}

export function verifyEventDatabase(env: ReadOnlyEnvironment): Generator<Finding, VerifySummary> {
  return new Verifier(env).run();
}

class Verifier {
  readonly #env: ReadOnlyEnvironment;
  readonly #summary: VerifySummary = { events: 0, latestTypes: 0, partitions: 0, orderedEntries: 0, problems: 0, notes: 0 };
  /** SYSTEM: server id -> last id */
  readonly #lastIds = new Map<number, EventId>();
  /** LATEST_TYPE: type_ref -> eventTypeKey */
  readonly #latestTypes = new Map<number, string>();
  readonly #partitions = new Map<number, Partition>();
  /** ORDERED_DATA rows per partition */
  readonly #counted = new Map<number, number>();

  constructor(env: ReadOnlyEnvironment) {
    this.#env = env;
  }

  *run(): Generator<Finding, VerifySummary> {
    const { dbs, typeIndex } = this.#env;
    yield* this.#pass('SYSTEM', dbs.SYSTEM, (row) => this.#system(row));
    yield* this.#pass('LATEST_TYPE', dbs.LATEST_TYPE, (row) => this.#latestType(row));
    yield* this.#pass('LATEST_DATA', dbs.LATEST_DATA, (row) => this.#latestData(row));
    yield* this.#pass('ORDERED_PARTITION', dbs.ORDERED_PARTITION, (row) => this.#partition(row));
    yield* this.#pass('ORDERED_DATA', dbs.ORDERED_DATA, (row) => this.#orderedData(row));
    yield* this.#pass('ORDERED_COUNT', dbs.ORDERED_COUNT, (row) => this.#orderedCount(row));
    for (const [pid, actual] of this.#counted) {
      if (this.#env.get(dbs.ORDERED_COUNT, u64Bytes(pid)) === undefined) {
        yield this.#report(true, `ORDERED_COUNT partition ${pid}`, `no row, the partition has ${actual} entries`);
      }
    }
    if (typeIndex !== null) yield* this.#typeIndexCounts(typeIndex);
    yield* this.#pass('REF', dbs.REF, (row) => this.#ref(row));
    this.#summary.latestTypes = this.#latestTypes.size;
    this.#summary.partitions = this.#partitions.size;
    return this.#summary;
  }

  #report(problem: boolean, where: string, message: string): Finding {
    if (problem) this.#summary.problems += 1;
    else this.#summary.notes += 1;
    return { problem, where, message };
  }

  *#pass(table: string, db: BinaryDb, check: (row: Row) => Generator<Finding>): Generator<Finding> {
    for (const row of this.#env.rows(db)) {
      try {
        yield* check(row);
      } catch (err) {
        yield this.#report(true, `${table} ${row.key.toString('hex')}`, `unreadable row: ${describeError(err)}`);
      }
    }
  }

  *#system({ key, value }: Row): Generator<Finding> {
    if (key.length !== U64_SIZE || value.length !== EVENT_ID_SIZE + TIMESTAMP_SIZE) {
      yield this.#report(true, `SYSTEM ${key.toString('hex')}`, `a ${key.length}-byte key and a ${value.length}-byte value, not 8 and 36`);
      return;
    }
    const server = readU64(key, 0);
    const { id } = readSystemValue(value);
    if (id.server !== server) yield this.#report(true, `SYSTEM server ${server}`, `holds the last id ${eventIdKey(id)} of another server`);
    this.#lastIds.set(server, id);
  }

  *#latestType({ key, value }: Row): Generator<Finding> {
    const type = parseJson(value);
    if (key.length !== U64_SIZE || !Array.isArray(type) || !type.every((s) => typeof s === 'string')) {
      yield this.#report(true, `LATEST_TYPE ${key.toString('hex')}`, `not an event type: ${JSON.stringify(value.toString('utf8'))}`);
      return;
    }
    this.#latestTypes.set(readU64(key, 0), eventTypeKey(type));
  }

  *#latestData({ key, value }: Row): Generator<Finding> {
    if (key.length !== U64_SIZE) throw new RangeError(`a ${key.length}-byte key, not 8`);
    const typeRef = readU64(key, 0);
    const where = `LATEST_DATA type_ref ${typeRef}`;
    const event = decodedEvent(value);
    const type = this.#latestTypes.get(typeRef);
    if (type === undefined) yield this.#report(true, where, 'no LATEST_TYPE row for its type_ref');
    else if (type !== eventTypeKey(event.type)) yield this.#report(true, where, `holds an event of type ${eventTypeKey(event.type)}, LATEST_TYPE says ${type}`);
    if (!this.#refHolds(event.id, latestRef(typeRef))) yield this.#report(true, where, `REF of event ${eventIdKey(event.id)} has no Latest ref to it`);
    yield* this.#lastIdCheck(where, event.id);
  }

  *#partition({ key, value }: Row): Generator<Finding> {
    const identity = parseJson(value) as { order?: unknown; subscriptions?: unknown } | null;
    const order = identity?.order;
    if (key.length !== U64_SIZE || (order !== 1 && order !== 2) || !Array.isArray(identity?.subscriptions)) {
      yield this.#report(true, `ORDERED_PARTITION ${key.toString('hex')}`, `not a partition identity: ${JSON.stringify(value.toString('utf8'))}`);
      return;
    }
    const pid = readU64(key, 0);
    const countRow = this.#env.get(this.#env.dbs.ORDERED_COUNT, key);
    const count = countRow === undefined ? 0 : readU64(countRow, 0);
    const { typeIndex } = this.#env;
    const meta = typeIndex === null ? undefined : this.#env.get(typeIndex, key);
    const lastKey = lastOrderedKey(this.#env.dbs.ORDERED_DATA, pid, this.#env.transaction);
    const indexed = meta !== undefined && meta.equals(indexMetaOp(pid, count, lastKey).value as Buffer);
    if (meta !== undefined && !indexed && !isArchiveIdentity(identity as JsonValue)) {
      yield this.#report(false, `HAT_EVENT_TS_TYPE_INDEX partition ${pid}`,
        'out of date (the file was written to without it, e.g. by Hat); the server rebuilds it at its next open');
    }
    this.#partitions.set(pid, { order, indexed });
  }

  *#orderedData({ key, value }: Row): Generator<Finding> {
    this.#summary.orderedEntries += 1;
    if (key.length !== ORDERED_KEY_SIZE) throw new RangeError(`a ${key.length}-byte key, not ${ORDERED_KEY_SIZE}`);
    const pid = readU64(key, 0);
    const keyId = orderedKeyEventId(key);
    const where = `ORDERED_DATA partition ${pid} ${eventIdKey(keyId)}`;
    this.#counted.set(pid, (this.#counted.get(pid) ?? 0) + 1);
    const partition = this.#partitions.get(pid);
    if (partition === undefined) yield this.#report(true, where, 'its partition has no ORDERED_PARTITION row');
    const event = decodedEvent(value);
    if (!eventIdsEqual(event.id, keyId)) yield this.#report(true, where, `holds event ${eventIdKey(event.id)}`);
    if (partition !== undefined) {
      const time = partition.order === 1 ? event.timestamp : event.sourceTimestamp;
      const keyTime = orderedKeyTime(key);
      if (time === null || !timestampsEqual(time, keyTime)) {
        yield this.#report(true, where,
          `key time ${timeText(keyTime)} is not the event's ${partition.order === 1 ? 'timestamp' : 'source timestamp'} ${timeText(time)}`);
      }
      if (partition.indexed && this.#env.get(this.#env.typeIndex!, indexKey(key, typeHash(event.type))) === undefined) {
        yield this.#report(true, `HAT_EVENT_TS_TYPE_INDEX partition ${pid}`, `no entry for ${eventIdKey(keyId)}, though its meta row says it is current`);
      }
    }
    if (!this.#refHolds(event.id, orderedRef(key))) yield this.#report(true, where, 'REF of the event has no Ordered ref to it');
    yield* this.#lastIdCheck(where, event.id);
  }

  *#orderedCount({ key, value }: Row): Generator<Finding> {
    if (key.length !== U64_SIZE || value.length !== U64_SIZE) throw new RangeError(`a ${key.length}-byte key and a ${value.length}-byte value, not 8 and 8`);
    const pid = readU64(key, 0);
    const stored = readU64(value, 0);
    const actual = this.#counted.get(pid) ?? 0;
    if (stored !== actual) yield this.#report(true, `ORDERED_COUNT partition ${pid}`, `says ${stored} entries, the partition has ${actual}`);
  }

  *#typeIndexCounts(typeIndex: BinaryDb): Generator<Finding> {
    for (const [pid, partition] of this.#partitions) {
      if (!partition.indexed) continue;
      let entries = 0; // the meta row is the bare partition id; entries are longer
      for (const { key } of this.#env.rows(typeIndex, { start: u64Bytes(pid), end: u64Bytes(pid + 1) })) if (key.length > U64_SIZE) entries += 1;
      const rows = this.#counted.get(pid) ?? 0;
      if (entries !== rows) {
        yield this.#report(true, `HAT_EVENT_TS_TYPE_INDEX partition ${pid}`,
          `${entries} entries for a partition of ${rows}, though its meta row says it is current`);
      }
    }
  }

  *#ref({ key, value }: Row): Generator<Finding> {
    this.#summary.events += 1;
    if (key.length !== EVENT_ID_SIZE) throw new RangeError(`a ${key.length}-byte key, not ${EVENT_ID_SIZE}`);
    const id = readEventId(key, 0);
    const where = `REF ${eventIdKey(id)}`;
    const refs = splitRefs(value);
    if (refs.length === 0) yield this.#report(true, where, 'an empty ref set (the row should have been deleted)');
    for (const ref of refs) {
      if (ref[0] === DbType.LATEST_DATA) {
        const typeRef = readU64(ref, 1);
        const row = this.#env.get(this.#env.dbs.LATEST_DATA, ref.subarray(1));
        if (row === undefined) {
          yield this.#report(true, where, `Latest ref to type_ref ${typeRef}, which has no LATEST_DATA row`);
          continue;
        }
        const holder = decodedEvent(row).id;
        if (!eventIdsEqual(holder, id)) yield this.#report(true, where, `Latest ref to type_ref ${typeRef}, whose LATEST_DATA row holds event ${eventIdKey(holder)}`);
      } else {
        const orderedKey = ref.subarray(1);
        const named = orderedKeyEventId(orderedKey);
        const at = `partition ${readU64(orderedKey, 0)} at ${timeText(orderedKeyTime(orderedKey))}`;
        if (!eventIdsEqual(named, id)) yield this.#report(true, where, `Ordered ref (${at}) names event ${eventIdKey(named)}`);
        else if (this.#env.get(this.#env.dbs.ORDERED_DATA, orderedKey) === undefined) yield this.#report(true, where, `Ordered ref to a missing ORDERED_DATA row (${at})`);
      }
    }
  }

  /** An event stored past its server's last id would have its id given again to a new one. */
  *#lastIdCheck(where: string, id: EventId): Generator<Finding> {
    const last = this.#lastIds.get(id.server);
    if (last === undefined) yield this.#report(true, where, `event ${eventIdKey(id)} of server ${id.server}, which has no SYSTEM row`);
    else if (compareEventIds(id, last) > 0) yield this.#report(true, where, `event ${eventIdKey(id)} is past SYSTEM's last id ${eventIdKey(last)}`);
  }

  /** Whether the REF row of `id` holds `ref`; a missing row is false, a corrupt one is the REF pass's finding. */
  #refHolds(id: EventId, ref: Buffer): boolean {
    const value = this.#env.get(this.#env.dbs.REF, eventIdBytes(id));
    if (value === undefined) return false;
    try {
      return splitRefs(value).some((r) => r.equals(ref));
    } catch {
      return true;
    }
  }
}

/** The stored event as Hat reads it (a JSON payload included); throws why it cannot be. */
function decodedEvent(value: Uint8Array): Event {
  const event = decodeStoredEvent(value);
  if (event.payload?.type === 'json') {
    try {
      void event.payload.data;
    } catch {
      throw new Error(`event ${eventIdKey(event.id)} has a JSON payload that is not valid JSON`);
    }
  }
  return event;
}

function parseJson(value: Buffer): unknown {
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
}

function timeText(t: Timestamp | null): string {
  if (t === null) return 'none';
  try {
    return timestampToIsoString(t);
  } catch {
    return `${t.s} s ${t.us} us`;
  }
}
