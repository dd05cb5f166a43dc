// SBS encoder: one growing output buffer per message (docs/protocol.md, "SBS encoding"). Integers are the
// big-endian 7-bit groups whose LAST byte carries bit 7; the sign is bit 6 of the first byte.
import { SbsError } from './errors.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export class SbsWriter {
  #buf: Buffer;
  #view: DataView;
  /** Next write position. */
  pos: number;

  /** `headroom` bytes are left free at the start so a caller can prepend a header later. */
  constructor(initialCapacity = 256, headroom = 0) {
    this.#buf = Buffer.allocUnsafe(Math.max(initialCapacity, headroom + 16));
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    this.pos = headroom;
  }

  /** The raw backing buffer (valid until the next write that grows it). */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** The encoded bytes from `start` (a view into the writer's buffer, no copy). */
  finish(start = 0): Uint8Array {
    return this.#buf.subarray(start, this.pos);
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.#buf.copy(grown, 0, 0, this.pos);
    this.#buf = grown;
    this.#view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  none(): void {}

  boolean(value: boolean): void {
    this.ensure(1);
    this.#buf[this.pos++] = value ? 1 : 0;
  }

  /** Integer from a JS number; must be a safe integer (use `bigint` beyond 2^53). */
  integer(value: number): void {
    if (value >= -64 && value <= 63 && (value | 0) === value) {
      this.ensure(1);
      this.#buf[this.pos++] = (value & 0x7f) | 0x80;
      return;
    }
    if ((value | 0) === value) {
      // int32 (ids, timestamps until 2038, lengths): shifts instead of float division.
      let count = 1;
      for (let n = value >> 6; n !== 0 && n !== -1; n >>= 7) count++;
      this.ensure(count);
      const buf = this.#buf;
      const end = this.pos + count - 1;
      buf[end] = (value & 0x7f) | 0x80;
      for (let i = end - 1, n = value >> 7; i >= this.pos; i--, n >>= 7) buf[i] = n & 0x7f;
      this.pos = end + 1;
      return;
    }
    if (!Number.isSafeInteger(value)) {
      throw new SbsError('invalid-value', `SBS Integer must be a safe integer, got ${value}`);
    }
    // Beyond int32: collect groups least significant first, then write them reversed. Plain
    // arithmetic, never 32-bit bitwise operators on the whole value.
    let n = value;
    let count = 0;
    const groups = scratchGroups;
    for (;;) {
      const group = ((n % 128) + 128) % 128;
      n = (n - group) / 128;
      groups[count++] = group;
      const signBit = group & 0x40;
      if ((n === 0 && signBit === 0) || (n === -1 && signBit !== 0)) break;
    }
    this.ensure(count);
    const buf = this.#buf;
    let p = this.pos;
    for (let i = count - 1; i > 0; i--) buf[p++] = groups[i]!;
    buf[p++] = groups[0]! | 0x80;
    this.pos = p;
  }

  /** Integer from a bigint, limited to int64 like the reference C serializer. */
  bigint(value: bigint): void {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new SbsError('integer-overflow', `SBS Integer ${value} does not fit int64`);
    }
    if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.integer(Number(value));
      return;
    }
    let n = value;
    let count = 0;
    const groups = scratchGroups;
    for (;;) {
      const group = Number(n & 0x7fn);
      n >>= 7n;
      groups[count++] = group;
      const signBit = group & 0x40;
      if ((n === 0n && signBit === 0) || (n === -1n && signBit !== 0)) break;
    }
    this.ensure(count);
    for (let i = count - 1; i > 0; i--) this.#buf[this.pos++] = groups[i]!;
    this.#buf[this.pos++] = groups[0]! | 0x80;
  }

  float(value: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.pos, value, false);
    this.pos += 8;
  }

  bytes(value: Uint8Array): void {
    this.integer(value.length);
    this.ensure(value.length);
    this.#buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Appends bytes verbatim (no length prefix). */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.#buf.set(value, this.pos);
    this.pos += value.length;
  }

  string(value: string): void {
    const len = value.length;
    if (len < 64) {
      // Short ASCII strings (event type segments, names) are the common case: no encoder call.
      this.ensure(len + 1);
      const buf = this.#buf;
      const start = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === len) {
        buf[start] = len | 0x80;
        this.pos = start + 1 + len;
        return;
      }
    }
    // Reserve the length prefix for the worst case (3 bytes per UTF-16 unit), encode, then
    // move the text back if the real prefix is shorter.
    const maxBytes = len * 3;
    const maxPrefix = integerSize(maxBytes);
    this.ensure(maxPrefix + maxBytes);
    const textStart = this.pos + maxPrefix;
    const written = this.#buf.write(value, textStart, "utf8");
    const prefix = integerSize(written);
    this.integer(written);
    if (prefix !== maxPrefix) this.#buf.copy(this.#buf, this.pos, textStart, textStart + written);
    this.pos += written;
  }

  arrayLength(length: number): void {
    this.integer(length);
  }

  choice(index: number): void {
    this.integer(index);
  }

  /** `Optional(T)`: Choice none (absent) or value. `write` is a plain function so no closure is made per call. */
  optional<T>(value: T | null | undefined, write: (w: SbsWriter, value: T) => void): void {
    if (value == null) this.choice(0);
    else {
      this.choice(1);
      write(this, value);
    }
  }
}

export const writeString = (w: SbsWriter, s: string): void => w.string(s);
export const writeInteger = (w: SbsWriter, n: number): void => w.integer(n);

const scratchGroups: number[] = new Array<number>(10).fill(0);

/** Number of bytes the SBS Integer encoding of a non-negative safe integer takes. */
export function integerSize(value: number): number {
  let size = 1;
  let limit = 64; // values below 2^(7k-1) fit in k bytes
  while (value >= limit) {
    size++;
    limit *= 128;
  }
  return size;
}

/** Encodes one value as an exact-size byte array of its own. */
export function encodeAlone<T>(value: T, write: (w: SbsWriter, value: T) => void, sizeHint = 128): Uint8Array {
  const w = new SbsWriter(sizeHint);
  write(w, value);
  const view = w.finish();
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}
