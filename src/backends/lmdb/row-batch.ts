// The rows of one write transaction. A flush does not keep its rows: it issues them straight
// into the transaction (`RowSource.writeTo`), and again from the start when the transaction must
// be retried after the map grew, so no row is an object or an array slot. lmdb-js copies a key
// when a row is issued, so keys are built in a scratch buffer (`scratchKeys`); a value is only
// pointed at until the commit, so values live in memory that outlasts it (`ByteArena`).
import type { AnyDbName, WriteOp } from './environment.ts';

export interface RowSink {
  put(db: AnyDbName, key: Uint8Array, value: Uint8Array): void;
  remove(db: AnyDbName, key: Uint8Array): void;
}

export interface RowSource {
  /** Issues every row; called once per attempt of the transaction. */
  writeTo(sink: RowSink): void;
}

/** A short list of rows (partition rows, index rebuilds, the limits cleanup) as a source. */
export function opsSource(ops: readonly WriteOp[]): RowSource {
  return { writeTo: (sink) => writeOps(sink, ops) };
}

export function writeOps(sink: RowSink, ops: readonly WriteOp[]): void {
  for (const op of ops) {
    if (op.value === null) sink.remove(op.db, op.key);
    else sink.put(op.db, op.key, op.value);
  }
}

/** One scratch buffer per key size: a key is written, issued (and so copied), then overwritten. */
class ScratchKeys {
  readonly #bySize = new Map<number, Buffer>();

  of(size: number): Buffer {
    let key = this.#bySize.get(size);
    if (key === undefined) {
      key = Buffer.alloc(size);
      this.#bySize.set(size, key);
    }
    return key;
  }
}

/** Shared by every writer: each fills a key and issues it before anything else runs. */
export const scratchKeys = new ScratchKeys();

/**
 * Hands out views of large preallocated chunks: one allocation per chunk instead of a pooled
 * Buffer per value. A chunk stays alive while any view of it does.
 */
export class ByteArena {
  static readonly CHUNK_SIZE = 1 << 20;
  #chunk: Buffer = Buffer.allocUnsafe(0);
  #pos = 0;

  take(size: number): Buffer {
    if (this.#pos + size > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafe(Math.max(ByteArena.CHUNK_SIZE, size));
      this.#pos = 0;
    }
    const view = this.#chunk.subarray(this.#pos, this.#pos + size);
    this.#pos += size;
    return view;
  }
}
