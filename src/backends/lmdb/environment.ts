// The LMDB environment: one file (`db_path`, plus `<db_path>-lock`) holding Hat's seven named
// sub-databases. Keys and values are raw bytes; every layout lives in keys.ts/refs.ts.
import * as lmdb from 'lmdb';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assertLmdbDataV1, type LmdbVersion } from './data-format.ts';
import { opsSource, type RowSink, type RowSource } from './row-batch.ts';
import { checkLmdbFile } from './file-check.ts';
import { classifyWriteError, commitFailureOf, LmdbWriteError, MDB_PANIC } from './write-error.ts';

/** Sub-database names and their numbers (the number is the ref tag in REF values). */
export const DbType = {
  SYSTEM: 0,
  LATEST_DATA: 1,
  LATEST_TYPE: 2,
  ORDERED_DATA: 3,
  ORDERED_PARTITION: 4,
  ORDERED_COUNT: 5,
  REF: 6,
} as const;

type DbName = keyof typeof DbType;

/** Our own sub-dbs beside Hat's seven (Hat opens only its own by name and never sees these). */
const EXTRA_DB_NAMES = ['HAT_EVENT_TS_TYPE_INDEX'] as const;

type ExtraDbName = (typeof EXTRA_DB_NAMES)[number];

export type AnyDbName = DbName | ExtraDbName;

export type BinaryDb = Database<Buffer, Buffer>;

/** One write: a put when `value` is a buffer, a delete when it is null. */
export interface WriteOp {
  /** by name: a growing map reopens the environment, so handles do not outlive a commit */
  db: AnyDbName;
  key: Buffer;
  value: Buffer | Uint8Array | null;
}

const MAX_GROWTHS_PER_COMMIT = 6;

/**
 * The open environment. LMDB 0.9 (data format v1, the one Hat's LMDB reads) cannot enlarge a
 * map in place, so when a write transaction fails for lack of room the environment is closed
 * and reopened with a larger map: the failed transaction was aborted whole, so the retry
 * writes exactly what it would have written, and nothing committed is touched.
 */
export class Environment {
  readonly path: string;
  #mapSize: number;
  #root!: RootDatabase<Buffer, Buffer>;
  #dbs!: Record<AnyDbName, BinaryDb>;
  /** after a failed write left LMDB unusable (MDB_PANIC), the next commit reopens first */
  #mustReopen = false;

  private constructor(path: string, mapSize: number) {
    this.path = path;
    this.#mapSize = Math.max(Math.floor(mapSize), 4096);
  }

  static open(path: string, mapSize: number): Environment {
    assertLmdbDataV1((lmdb as unknown as { version: LmdbVersion }).version);
    checkLmdbFile(path); // before LMDB maps it: a truncated file would be a SIGBUS
    const env = new Environment(path, mapSize);
    env.#openHandles();
    return env;
  }

  get root(): RootDatabase<Buffer, Buffer> {
    return this.#root;
  }

  get dbs(): Readonly<Record<AnyDbName, BinaryDb>> {
    return this.#dbs;
  }

  get mapSize(): number {
    return this.#mapSize;
  }

  close(): Promise<void> {
    return this.#root.close();
  }

  /**
   * Applies `ops` in one asynchronous LMDB transaction (executed on lmdb-js's write thread, so
   * the main thread only queues them) and resolves once it is durably on disk. A failure is an
   * LmdbWriteError that says whether waiting can help (write-error.ts); nothing of `ops` is then
   * written.
   */
  async commit(ops: WriteOp[] | RowSource): Promise<void> {
    if (Array.isArray(ops) && ops.length === 0) return;
    const rows = Array.isArray(ops) ? opsSource(ops) : ops;
    if (this.#mustReopen) await this.#reopen(this.#mapSize);
    for (let growths = 0; ; growths++) {
      const sink = new LmdbSink(this.#dbs);
      let failure: LmdbWriteError;
      try {
        await this.#root.batch(() => rows.writeTo(sink));
        await this.#root.flushed;
        return;
      } catch (err) {
        failure = classifyWriteError(await commitFailureOf(err), this.path);
      }
      if (failure.kind !== 'map-full') {
        this.#mustReopen = failure.code === MDB_PANIC;
        throw failure;
      }
      if (growths >= MAX_GROWTHS_PER_COMMIT) {
        throw new LmdbWriteError('broken', failure.code, `lmdb write failed with a map of ${this.#mapSize} bytes: ${failure.message}`, failure);
      }
      // Room for at least twice what the rows carry on top of the current map.
      const bytes = sink.bytes + 64 * sink.rows;
      await this.#reopen(Math.max(this.#mapSize * 2, this.#mapSize + 4 * bytes));
    }
  }

  async #reopen(mapSize: number): Promise<void> {
    await this.#root.close();
    this.#mapSize = mapSize;
    this.#mustReopen = false;
    this.#openHandles();
  }

  #openHandles(): void {
    for (;;) {
      const root = open<Buffer, Buffer>({
        path: this.path,
        mapSize: this.#mapSize,
        noSubdir: true, // Hat opens with subdir=False: a single file, whatever its name
        maxDbs: Object.keys(DbType).length + EXTRA_DB_NAMES.length,
        encoding: 'binary',
        keyEncoding: 'binary',
        // Writes go in explicit batches only. With batching per event turn, lmdb-js also makes
        // a commit promise of its own that nobody awaits: a failed commit (a full disk) would
        // reject it and end the process with an unhandled rejection.
        eventTurnBatching: false,
      });
      try {
        const dbs = {} as Record<AnyDbName, BinaryDb>;
        for (const name of [...Object.keys(DbType) as DbName[], ...EXTRA_DB_NAMES]) {
          dbs[name] = root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
        }
        this.#root = root;
        this.#dbs = dbs;
        return;
      } catch (err) {
        void root.close();
        // A map too small even for the sub-db records of a new file: start from a larger one.
        if ((err as { code?: number }).code !== MDB_MAP_FULL || this.#mapSize > 1 << 30) throw err;
        this.#mapSize *= 2;
      }
    }
  }
}

/** Issues rows to lmdb-js inside a batch, counting them (a map that grows sizes from them). */
class LmdbSink implements RowSink {
  rows = 0;
  bytes = 0;
  readonly #dbs: Readonly<Record<AnyDbName, BinaryDb>>;

  constructor(dbs: Readonly<Record<AnyDbName, BinaryDb>>) {
    this.#dbs = dbs;
  }

  put(db: AnyDbName, key: Uint8Array, value: Uint8Array): void {
    void this.#dbs[db].put(key as Buffer, value as Buffer);
    this.rows++;
    this.bytes += key.length + value.length;
  }

  remove(db: AnyDbName, key: Uint8Array): void {
    void this.#dbs[db].remove(key as Buffer);
    this.rows++;
    this.bytes += key.length;
  }
}

const MDB_MAP_FULL = -30792;
