// Byte layouts of Hat 0.8's LMDB file (docs/storage.md, "Sub-databases"). Every integer is unsigned
// big-endian, so byte order equals logical order and LMDB's key order is the query order.
// Numbers are split into two u32 words instead of going through BigInt: it is the hot path.
import type { EventId, Timestamp } from '../../common/types.ts';

export const U64_SIZE = 8;
export const TIMESTAMP_SIZE = 12;
export const EVENT_ID_SIZE = 24;
/** u64 partition id ‖ ts(key time) ‖ eid */
export const ORDERED_KEY_SIZE = U64_SIZE + TIMESTAMP_SIZE + EVENT_ID_SIZE;

const TWO_POW_32 = 0x1_0000_0000;

export function writeU64(buf: Uint8Array, offset: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64 value: ${value}`);
  put32(buf, offset, Math.floor(value / TWO_POW_32));
  put32(buf, offset + 4, value >>> 0);
}

/** Big-endian u32 by plain byte stores (the flush writes millions: no range checks beyond the array's). */
function put32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = value >>> 16;
  buf[offset + 2] = value >>> 8;
  buf[offset + 3] = value;
}

export function readU64(buf: Buffer, offset: number): number {
  const value = buf.readUInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4);
  if (!Number.isSafeInteger(value)) throw new RangeError(`u64 value beyond 2^53 at offset ${offset}`);
  return value;
}

/**
 * Whether Hat's key layout holds `t`: `s + 2^63` must fit u64 and `us` u32. Hat writes a client's
 * `us` as it came (1_000_000 or 2^31 included), so we do too; outside u32 Hat's struct.pack fails.
 */
export function isKeyTimestamp(t: Timestamp): boolean {
  return Number.isInteger(t.s) && t.s >= -(2 ** 63) && t.s < 2 ** 63 &&
    Number.isInteger(t.us) && t.us >= 0 && t.us < TWO_POW_32;
}

/** u64(s + 2^63) ‖ u32(us). */
export function writeTimestamp(buf: Uint8Array, offset: number, t: Timestamp): void {
  if (!isKeyTimestamp(t)) throw new RangeError(`not a storable timestamp: s=${t.s} us=${t.us}`);
  const high = Math.floor(t.s / TWO_POW_32);
  put32(buf, offset, (high + 0x8000_0000) >>> 0);
  put32(buf, offset + 4, (t.s - high * TWO_POW_32) >>> 0);
  put32(buf, offset + 8, t.us);
}

export function readTimestamp(buf: Buffer, offset: number): Timestamp {
  const s = (buf.readUInt32BE(offset) - 0x8000_0000) * TWO_POW_32 + buf.readUInt32BE(offset + 4);
  return { s, us: buf.readUInt32BE(offset + 8) };
}

export function writeEventId(buf: Uint8Array, offset: number, id: EventId): void {
  writeU64(buf, offset, id.server);
  writeU64(buf, offset + 8, id.session);
  writeU64(buf, offset + 16, id.instance);
}

export function readEventId(buf: Buffer, offset: number): EventId {
  return { server: readU64(buf, offset), session: readU64(buf, offset + 8), instance: readU64(buf, offset + 16) };
}

export function u64Bytes(value: number): Buffer {
  const buf = Buffer.allocUnsafe(U64_SIZE);
  writeU64(buf, 0, value);
  return buf;
}

export function eventIdBytes(id: EventId): Buffer {
  const buf = Buffer.allocUnsafe(EVENT_ID_SIZE);
  writeEventId(buf, 0, id);
  return buf;
}

export function orderedKey(partitionId: number, time: Timestamp, id: EventId): Buffer {
  const buf = Buffer.allocUnsafe(ORDERED_KEY_SIZE);
  writeOrderedKey(buf, partitionId, time, id);
  return buf;
}

/** Writes u64 partition id ‖ ts(time) ‖ eid (ORDERED_KEY_SIZE bytes) into `buf` at `offset`. */
export function writeOrderedKey(buf: Uint8Array, partitionId: number, time: Timestamp, id: EventId, offset = 0): void {
  writeU64(buf, offset, partitionId);
  writeTimestamp(buf, offset + U64_SIZE, time);
  writeEventId(buf, offset + U64_SIZE + TIMESTAMP_SIZE, id);
}

/** The order of ordered keys of one partition, from the numbers: (time, event id). */
export function compareKeyParts(aTime: Timestamp, aId: EventId, bTime: Timestamp, bId: EventId): number {
  return aTime.s - bTime.s || aTime.us - bTime.us || aId.server - bId.server ||
    aId.session - bId.session || aId.instance - bId.instance;
}

/**
 * Range bound inside a partition: `time` null means the lowest (−2^63, 0) or highest
 * (2^63−1, 1e6) sentinel Hat uses, which no JS number can hold exactly, so they are written
 * as bytes. The event id part is all zeros for a lower bound and all ones for an upper one.
 * A bound the layout cannot hold (a query's `us` outside u32) scans from the sentinel: the
 * query's own time filter then decides.
 */
export function orderedBound(partitionId: number, time: Timestamp | null, upper: boolean): Buffer {
  const buf = Buffer.alloc(ORDERED_KEY_SIZE, upper ? 0xff : 0x00);
  writeU64(buf, 0, partitionId);
  if (time !== null && isKeyTimestamp(time)) {
    writeTimestamp(buf, U64_SIZE, time);
  } else if (upper) {
    buf.writeUInt32BE(1_000_000, U64_SIZE + 8); // s = 2^63 − 1 is already all ones after the bias
  }
  return buf;
}

export function orderedKeyTime(key: Buffer): Timestamp {
  return readTimestamp(key, U64_SIZE);
}

export function orderedKeyEventId(key: Buffer): EventId {
  return readEventId(key, U64_SIZE + TIMESTAMP_SIZE);
}

/** SYSTEM value: eid(last id) ‖ ts(last timestamp), 36 bytes. */
export function systemValue(id: EventId, timestamp: Timestamp): Buffer {
  const buf = Buffer.allocUnsafe(EVENT_ID_SIZE + TIMESTAMP_SIZE);
  writeEventId(buf, 0, id);
  writeTimestamp(buf, EVENT_ID_SIZE, timestamp);
  return buf;
}

export function readSystemValue(buf: Buffer): { id: EventId; timestamp: Timestamp } {
  if (buf.length !== EVENT_ID_SIZE + TIMESTAMP_SIZE) throw new RangeError(`SYSTEM value of ${buf.length} bytes`);
  return { id: readEventId(buf, 0), timestamp: readTimestamp(buf, EVENT_ID_SIZE) };
}
