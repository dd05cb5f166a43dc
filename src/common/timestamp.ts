// Timestamps (docs/api.md, "Data model"): whole seconds since the epoch (UTC, may be negative) plus
// microseconds in [0, 1e6). Order and equality are those of the total microseconds.
import type { Timestamp } from './types.ts';

const US_PER_S = 1_000_000;
const TWO_POW_63 = 2n ** 63n;

function assertTimestamp(t: unknown, what: string): asserts t is Timestamp {
  if (
    t === null || typeof t !== 'object' ||
    typeof (t as Timestamp).s !== 'number' || typeof (t as Timestamp).us !== 'number'
  ) {
    throw new TypeError(`${what} is not a Timestamp: ${String(t)}`);
  }
}

/**
 * Negative, zero or positive as `a` is before, equal to or after `b`. Throws a TypeError when
 * either side is not a Timestamp (Python raises on `Timestamp < None`).
 */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  assertTimestamp(a, 'left operand');
  assertTimestamp(b, 'right operand');
  // Fast path for normalised values (the usual case); otherwise compare total micros exactly.
  if (a.us >= 0 && a.us < US_PER_S && b.us >= 0 && b.us < US_PER_S) {
    return a.s < b.s ? -1 : a.s > b.s ? 1 : a.us - b.us;
  }
  const ta = totalMicros(a);
  const tb = totalMicros(b);
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

export function timestampsEqual(a: Timestamp, b: Timestamp): boolean {
  return compareTimestamps(a, b) === 0;
}

function totalMicros(t: Timestamp): bigint {
  return BigInt(t.s) * BigInt(US_PER_S) + BigInt(t.us);
}

/** Brings `us` into [0, 1e6) by carrying whole seconds into `s` (floor semantics). */
export function normalizeTimestamp(s: number, us: number): Timestamp {
  const rest = ((us % US_PER_S) + US_PER_S) % US_PER_S;
  return { s: s + (us - rest) / US_PER_S, us: rest };
}

/** Python's `round(x)` for floats: nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor; // exact for doubles
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

// The wall clock (Date.now) has millisecond resolution, so sessions a few hundred µs apart would
// share a timestamp. Microseconds come from the monotonic clock, anchored to the wall clock and
// re-anchored when the two drift apart by more than two milliseconds (clock adjustments); the result
// never goes backwards within the process.
let anchorUs = Date.now() * 1000 - Math.round(performance.now() * 1000);
let lastUs = 0;

/** Current UTC time with microsecond resolution, non-decreasing within the process. */
export function now(): Timestamp {
  const wallUs = Date.now() * 1000;
  let us = anchorUs + Math.round(performance.now() * 1000);
  if (Math.abs(us - wallUs) > 2000) {
    anchorUs += wallUs - us;
    us = wallUs;
  }
  if (us < lastUs) us = lastUs;
  lastUs = us;
  const s = Math.floor(us / 1e6);
  return { s, us: us - s * 1e6 };
}

function timestampFromMillis(ms: number): Timestamp {
  const s = Math.floor(ms / 1000);
  return { s, us: (ms - s * 1000) * 1000 };
}

/** Adds (possibly negative, fractional) `seconds`, rounding the fraction to whole micros. */
export function timestampAdd(t: Timestamp, seconds: number): Timestamp {
  const intPart = Math.trunc(seconds);
  const us = t.us + roundHalfEven((seconds - intPart) * 1e6);
  return normalizeTimestamp(t.s + intPart, us);
}

export function timestampToFloat(t: Timestamp): number {
  return t.s + t.us * 1e-6;
}

export function timestampFromFloat(x: number): Timestamp {
  if (!Number.isFinite(x)) throw new RangeError(`cannot make a Timestamp of ${x}`);
  let s = Math.trunc(x);
  if (x < 0) s -= 1;
  const us = roundHalfEven((x - s) * 1e6);
  return us >= US_PER_S ? { s: s + 1, us: us - US_PER_S } : { s, us };
}

/** A Date of the instant; Date holds milliseconds only, so the microseconds are floored. */
export function timestampToDate(t: Timestamp): Date {
  const d = new Date(t.s * 1000 + Math.floor(t.us / 1000));
  if (Number.isNaN(d.getTime())) throw new RangeError(`Timestamp out of Date range: s=${t.s}`);
  return d;
}

/** ISO 8601 UTC text with all six microsecond digits, e.g. `1970-01-01T00:00:00.000123Z`. */
export function timestampToIsoString(t: Timestamp): string {
  const n = normalizeTimestamp(t.s, t.us);
  const iso = timestampToDate({ s: n.s, us: 0 }).toISOString(); // ends with '.000Z'
  return `${iso.slice(0, -4)}${String(n.us).padStart(6, '0')}Z`;
}

const ISO_RE =
  /^([+-]?\d{4,6})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,6}))?)?(Z|[+-]\d\d(?::?\d\d)?)?$/i;

/**
 * The Timestamp of a Date or of ISO 8601 text. Text keeps up to six fractional digits exactly;
 * text without a zone is taken as UTC (like Hat's naive datetimes). `s` is the floor of the
 * epoch seconds (the original's off-by-one for whole negative seconds is not reproduced).
 */
export function timestampFromDate(date: Date | string): Timestamp {
  if (date instanceof Date) {
    const ms = date.getTime();
    if (Number.isNaN(ms)) throw new RangeError('invalid Date');
    return timestampFromMillis(ms);
  }
  if (typeof date !== 'string') throw new TypeError(`expected a Date or ISO string, got ${String(date)}`);
  const m = ISO_RE.exec(date.trim());
  if (!m) throw new RangeError(`not an ISO 8601 date-time: ${JSON.stringify(date)}`);
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as
    [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    throw new RangeError(`date-time field out of range: ${JSON.stringify(date)}`);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0..99 literal
  d.setUTCHours(hour, minute, second, 0);
  if (d.getUTCDate() !== day) throw new RangeError(`no such day: ${JSON.stringify(date)}`);
  const us = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  return { s: d.getTime() / 1000 - zoneOffsetSeconds(m[8]), us };
}

function zoneOffsetSeconds(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60);
}

/**
 * 12 bytes whose byte order is the numeric order: u64 big-endian of `s + 2^63`, then u32
 * big-endian of `us`. Writes into `target` at `offset` when given.
 */
export function timestampToBytes(t: Timestamp, target?: Uint8Array, offset = 0): Uint8Array {
  if (!Number.isInteger(t.s) || !Number.isInteger(t.us) || t.us < 0 || t.us > 0xffffffff) {
    throw new RangeError(`Timestamp not encodable: s=${t.s} us=${t.us}`);
  }
  const biased = BigInt(t.s) + TWO_POW_63;
  if (biased < 0n || biased >= 2n * TWO_POW_63) throw new RangeError(`Timestamp seconds out of range: ${t.s}`);
  const out = target ?? new Uint8Array(12);
  const view = new DataView(out.buffer, out.byteOffset + offset, 12);
  view.setBigUint64(0, biased);
  view.setUint32(8, t.us);
  return out;
}

export function timestampFromBytes(bytes: Uint8Array, offset = 0): Timestamp {
  if (bytes.length - offset < 12) throw new RangeError(`need 12 bytes for a Timestamp, got ${bytes.length - offset}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 12);
  return { s: Number(view.getBigUint64(0) - TWO_POW_63), us: view.getUint32(8) };
}
