// SBS decoder over one input buffer. Every read checks the remaining length, so malformed input
// fails with an SbsError naming the reason instead of reading garbage.
import { SbsError } from './errors.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** int64 needs at most 10 groups of 7 bits; longer encodings cannot be int64. */
const MAX_INTEGER_BYTES = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');

export class SbsReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  #view: DataView | null = null;
  /**
   * Lenient decoding (requests from clients): a value that is well formed but that JS cannot hold
   * exactly (an Integer beyond the safe range, a String that is not UTF-8) is returned
   * approximately (nearest double, U+FFFD) and described in `problem`, so the caller can refuse
   * that one item instead of the whole message. Malformed structure still throws.
   */
  lenient = false;
  /** The first inexact value read in lenient mode (the caller resets it per item). */
  problem: SbsError | null = null;
  /** Told each Array's element count before the array is built (a caller's memory accounting). */
  onArray: ((count: number) => void) | null = null;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #truncated(what: string): never {
    throw new SbsError('truncated', `SBS input truncated: ${what} needs more than the ${this.remaining} bytes left at offset ${this.pos}`);
  }

  none(): null {
    return null;
  }

  boolean(): boolean {
    if (this.pos >= this.end) this.#truncated('Boolean');
    return this.bytes[this.pos++] !== 0; // any non-zero byte is true, as in the reference
  }

  /** Integer as a JS number; values outside the safe integer range are an error. */
  integer(): number {
    const bytes = this.bytes;
    let p = this.pos;
    if (p >= this.end) this.#truncated('Integer');
    let b = bytes[p++]!;
    if (b & 0x80) {
      this.pos = p;
      return b & 0x40 ? (b & 0x7f) - 128 : b & 0x7f;
    }
    // Up to 7 groups (49 bits) stay exact in a double; longer ones go through bigint.
    let acc = b & 0x40 ? -1 : 0;
    for (let n = 1; ; n++) {
      acc = acc * 128 + (b & 0x7f);
      if (b & 0x80) break;
      if (n === 7) return this.#integerSlow();
      if (p >= this.end) this.#truncated('Integer');
      b = bytes[p++]!;
    }
    this.pos = p;
    return acc;
  }

  #integerSlow(): number {
    if (this.lenient) return this.#integerApproximate();
    const value = this.bigint();
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new SbsError('integer-overflow', `SBS Integer ${value} is outside the safe JS integer range`);
    }
    return Number(value);
  }

  /** Lenient mode: the nearest double (int64 bounds beyond int64), with a problem when inexact. */
  #integerApproximate(): number {
    const bytes = this.bytes;
    const start = this.pos;
    let p = start;
    for (;;) {
      if (p >= this.end) this.#truncated('Integer');
      if (bytes[p++]! & 0x80) break;
    }
    let value: number;
    if (p - start > MAX_INTEGER_BYTES) {
      value = bytes[start]! & 0x40 ? -(2 ** 63) : 2 ** 63;
    } else {
      let acc = bytes[start]! & 0x40 ? -1n : 0n;
      for (let i = start; i < p; i++) acc = (acc << 7n) | BigInt(bytes[i]! & 0x7f);
      value = Number(acc < INT64_MIN ? INT64_MIN : acc > INT64_MAX ? INT64_MAX : acc);
    }
    this.pos = p;
    if (!Number.isSafeInteger(value)) {
      this.problem ??= new SbsError('integer-overflow', `SBS Integer at offset ${start} is outside the safe JS integer range`);
    }
    return value;
  }

  /** Integer as a bigint, limited to int64. */
  bigint(): bigint {
    const start = this.pos;
    let p = start;
    if (p >= this.end) this.#truncated('Integer');
    let acc = this.bytes[p]! & 0x40 ? -1n : 0n;
    for (;;) {
      if (p >= this.end) {
        this.pos = start;
        this.#truncated('Integer');
      }
      if (p - start >= MAX_INTEGER_BYTES) {
        throw new SbsError('integer-overflow', `SBS Integer at offset ${start} is longer than int64 (more than ${MAX_INTEGER_BYTES} bytes)`);
      }
      const b = this.bytes[p++]!;
      acc = (acc << 7n) | BigInt(b & 0x7f);
      if (b & 0x80) break;
    }
    if (acc < INT64_MIN || acc > INT64_MAX) {
      throw new SbsError('integer-overflow', `SBS Integer ${acc} at offset ${start} does not fit int64`);
    }
    this.pos = p;
    return acc;
  }

  /** Integer as a number when safe, else as a bigint (generic decoding, tests). */
  integerValue(): number | bigint {
    const value = this.bigint();
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  float(): number {
    if (this.end - this.pos < 8) this.#truncated('Float');
    this.#view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const value = this.#view.getFloat64(this.pos, false);
    this.pos += 8;
    return value;
  }

  #length(what: string): number {
    const len = this.integer();
    if (len < 0) throw new SbsError('invalid-value', `SBS ${what} length ${len} is negative`);
    if (len > this.end - this.pos) this.#truncated(`${what} of ${len} bytes`);
    return len;
  }

  /** Bytes as a view into the input (no copy); copy it if it must outlive the input. */
  bytesView(): Uint8Array {
    const len = this.#length('Bytes');
    const value = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return value;
  }

  /** Bytes copied out of the input. */
  bytesCopy(): Uint8Array {
    return copyBytes(this.bytesView());
  }

  string(): string {
    const len = this.#length('String');
    const bytes = this.bytes;
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    // ASCII (the common case) needs no validation: build it directly for short strings, and
    // through latin1 for longer ones; anything else goes through the strict UTF-8 decoder.
    if (len < 16) {
      let s = '';
      for (let i = start; i < end; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) return this.#decodeUtf8(start, len);
        s += String.fromCharCode(c);
      }
      return s;
    }
    for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return this.#decodeUtf8(start, len);
    return Buffer.prototype.latin1Slice.call(bytes, start, end);
  }

  #decodeUtf8(start: number, len: number): string {
    const bytes = this.bytes.subarray(start, start + len);
    try {
      return utf8.decode(bytes);
    } catch {
      const problem = new SbsError('invalid-utf8', `SBS String at offset ${start} is not valid UTF-8`);
      if (!this.lenient) throw problem;
      this.problem ??= problem;
      return utf8Lossy.decode(bytes);
    }
  }

  /** Array element count; each element needs at least `minElementSize` bytes (0 for None). */
  arrayLength(minElementSize = 1): number {
    const count = this.integer();
    if (count < 0) throw new SbsError('invalid-value', `SBS Array length ${count} is negative`);
    // Refuse counts the input cannot hold before any array is sized by them.
    if (minElementSize > 0 && count * minElementSize > this.end - this.pos) this.#truncated(`Array of ${count} elements`);
    this.onArray?.(count);
    return count;
  }

  /** Choice index checked against the number of entries. */
  choice(entries: number, typeName: string): number {
    const at = this.pos;
    const index = this.integer();
    if (index < 0 || index >= entries) {
      throw new SbsError('choice-index', `SBS Choice index ${index} out of range for ${typeName} (${entries} entries) at offset ${at}`);
    }
    return index;
  }

  /** `Optional(T)`: null for Choice none, else the value `read` decodes. */
  optional<T>(typeName: string, read: (r: SbsReader) => T): T | null {
    return this.choice(2, `Optional(${typeName})`) === 0 ? null : read(this);
  }

  /** Throws unless the whole input was consumed (strict decoding of stored records). */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new SbsError('invalid-value', `${this.end - this.pos} trailing bytes after ${what}`);
    }
  }
}

/** A plain Uint8Array copy (`Buffer#slice` would return a view, so never call it here). */
export const readString = (r: SbsReader): string => r.string();
export const readInteger = (r: SbsReader): number => r.integer();

export function copyBytes(view: Uint8Array): Uint8Array {
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}

/** Decodes bytes that must hold exactly one `what` (trailing bytes are an error). */
export function decodeExactly<T>(bytes: Uint8Array, what: string, read: (r: SbsReader) => T): T {
  const r = new SbsReader(bytes);
  const value = read(r);
  r.expectEnd(what);
  return value;
}
