// TCP framing (docs/protocol.md, "Framing"): `[m][len: m bytes big-endian][body]`. Encoding builds
// the whole frame in one buffer; decoding refuses a length over the maximum before allocating.
import { SbsWriter } from '../sbs/writer.ts';
import { writeHatMsgHead, type HatMsgHeader } from '../sbs/hat-messages.ts';

export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Writes a message's inner SBS data into the frame buffer. */
export type DataWriter = (w: SbsWriter) => void;

const headWriter = new SbsWriter(256);

/**
 * One complete frame: framing prefix, `Hat.Msg` envelope and the inner data written by
 * `write`. The inner data is written first after some headroom; the envelope and prefix are
 * then placed right in front of it, so nothing is copied twice.
 */
export function encodeFrame(h: HatMsgHeader, module: string | null, type: string, write?: DataWriter, sizeHint = 64): Uint8Array {
  return encodeFrameHead(h, module, type, write, sizeHint, 0);
}

/**
 * A frame whose inner data ends with `tail` (already encoded, e.g. a query's stored events):
 * the frame's first part as `encodeFrame` builds it, counting the tail, then the tail's
 * chunks as they are (not copied).
 */
export function encodeFrameParts(h: HatMsgHeader, module: string | null, type: string, write: DataWriter | undefined, sizeHint: number, tail: readonly Uint8Array[]): Uint8Array[] {
  let tailLength = 0;
  for (const chunk of tail) tailLength += chunk.length;
  return [encodeFrameHead(h, module, type, write, sizeHint, tailLength), ...tail];
}

function encodeFrameHead(h: HatMsgHeader, module: string | null, type: string, write: DataWriter | undefined, sizeHint: number, tailLength: number): Uint8Array {
  const headroom = 48 + 3 * ((module?.length ?? 0) + type.length);
  const w = new SbsWriter(headroom + sizeHint, headroom);
  if (write) write(w);
  const dataLength = w.pos - headroom + tailLength;
  headWriter.pos = 0;
  writeHatMsgHead(headWriter, h, module, type, dataLength);
  const headLength = headWriter.pos;
  const bodyLength = headLength + dataLength; // the tail included
  let m = 1;
  while (bodyLength >= 2 ** (8 * m)) m++;
  const start = headroom - headLength - 1 - m;
  const buf = w.buffer;
  buf[start] = m;
  let len = bodyLength;
  for (let i = m; i >= 1; i--) {
    buf[start + i] = len % 256;
    len = Math.floor(len / 256);
  }
  buf.set(headWriter.finish(), start + 1 + m);
  return buf.subarray(start, w.pos);
}

/** Where the bytes of a partly received frame are counted (a connection's input share). */
export interface PartialFrameBudget {
  /** false: the connection was closed for it (stop) */
  take(bytes: number): boolean;
  release(bytes: number): void;
}

/**
 * Splits a byte stream into frame bodies. Bodies inside one chunk are views, not copies. A body
 * that spans chunks is copied into a buffer of its full length, whose untouched pages cost no
 * memory: the budget is charged for the bytes received, as they arrive.
 */
export class FrameDecoder {
  #state: 'size' | 'length' | 'body' = 'size';
  #lengthLeft = 0;
  #length = 0;
  #body: Buffer | null = null;
  #filled = 0;
  readonly #maxFrameSize;
  readonly #budget: PartialFrameBudget | undefined;

  constructor(maxFrameSize = DEFAULT_MAX_FRAME_SIZE, budget?: PartialFrameBudget) {
    this.#maxFrameSize = maxFrameSize;
    this.#budget = budget;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.#state === 'size';
  }

  /** Calls `onFrame` for each completed body; stops early when it returns false. */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => boolean): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#state === 'size') {
        this.#lengthLeft = chunk[i++]!;
        this.#length = 0;
        this.#state = 'length';
      }
      if (this.#state === 'length') {
        while (this.#lengthLeft > 0 && i < n) {
          this.#length = this.#length * 256 + chunk[i++]!;
          this.#lengthLeft--;
          if (this.#length > this.#maxFrameSize) {
            throw new FrameError(`frame length exceeds the maximum of ${this.#maxFrameSize} bytes`);
          }
        }
        if (this.#lengthLeft > 0) return;
        this.#state = 'body';
        this.#filled = 0;
      }
      const len = this.#length;
      if (this.#body === null && n - i >= len) {
        const body = chunk.subarray(i, i + len);
        i += len;
        this.#state = 'size';
        if (!onFrame(body)) return;
        continue;
      }
      const take = Math.min(len - this.#filled, n - i);
      if (this.#budget !== undefined && !this.#budget.take(take)) {
        this.#body = null;
        return;
      }
      this.#body ??= Buffer.allocUnsafe(len);
      this.#body.set(chunk.subarray(i, i + take), this.#filled);
      this.#filled += take;
      i += take;
      if (this.#filled < len) return;
      const body = this.#body;
      this.#body = null;
      this.#state = 'size';
      this.#budget?.release(len);
      if (!onFrame(body)) return;
    }
  }
}
