// The rows of one write transaction, kept in parallel arrays (no object per row) and replayable:
// a commit that runs out of map room is retried with the same rows after the map grows. Keys
// and values come as views (of a ByteArena or of a register batch's value buffer).
import type { AnyDbName, BinaryDb, WriteOp } from './environment.ts';

export class RowBatch {
  readonly #dbs: AnyDbName[] = [];
  readonly #keys: Uint8Array[] = [];
  /** null: delete the key */
  readonly #values: (Uint8Array | null)[] = [];
  #bytes = 0;

  static of(ops: WriteOp[]): RowBatch {
    const rows = new RowBatch();
    rows.addOps(ops);
    return rows;
  }

  get length(): number {
    return this.#keys.length;
  }

  /** Key and value bytes in all (map growth sizes from it). */
  get bytes(): number {
    return this.#bytes;
  }

  put(db: AnyDbName, key: Uint8Array, value: Uint8Array): void {
    this.#dbs.push(db);
    this.#keys.push(key);
    this.#values.push(value);
    this.#bytes += key.length + value.length;
  }

  remove(db: AnyDbName, key: Uint8Array): void {
    this.#dbs.push(db);
    this.#keys.push(key);
    this.#values.push(null);
    this.#bytes += key.length;
  }

  addOps(ops: WriteOp[]): void {
    for (const op of ops) {
      if (op.value === null) this.remove(op.db, op.key);
      else this.put(op.db, op.key, op.value);
    }
  }

  /** Issues every row to lmdb-js (inside a batch callback). */
  writeTo(handles: Readonly<Record<AnyDbName, BinaryDb>>): void {
    const dbs = this.#dbs;
    const keys = this.#keys;
    const values = this.#values;
    let name: AnyDbName | undefined;
    let db: BinaryDb | undefined;
    for (let i = 0; i < keys.length; i++) {
      // Rows come in runs of one sub-db: look the handle up only when the name changes.
      if (dbs[i] !== name) {
        name = dbs[i]!;
        db = handles[name];
      }
      const value = values[i]!;
      if (value === null) void db!.remove(keys[i] as Buffer);
      else void db!.put(keys[i] as Buffer, value as Buffer);
    }
  }
}

/**
 * Hands out views of large preallocated chunks: one allocation per chunk instead of a pooled
 * Buffer per key. A chunk stays alive while any view of it does, so a view kept beyond the
 * write (e.g. a partition's last key) must be copied.
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
