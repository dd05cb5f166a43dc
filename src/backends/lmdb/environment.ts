// The LMDB environment: one file (`db_path`, plus `<db_path>-lock`) holding Hat's seven named
// sub-databases. Keys and values are raw bytes; every layout lives in keys.ts/refs.ts.
import * as lmdb from 'lmdb';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assertLmdbDataV1, type LmdbVersion } from './data-format.ts';
import { RowBatch } from './row-batch.ts';
import { describeError } from '../../common/describe-error.ts';

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

/** Every sub-db the environment opens, Hat's and ours. */
export const DB_NAMES: readonly AnyDbName[] = [...Object.keys(DbType) as DbName[], ...EXTRA_DB_NAMES];

/**
 * Told about writes (readers/reader-pool.ts: threads that read the file outside LMDB's lock
 * table must not start a snapshot during a commit, nor hold one while the map is reopened).
 */
export interface CommitObserver {
  beforeCommit(): Promise<void>;
  afterCommit(): void;
  beforeReopen(): Promise<void>;
}

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
  commitObserver: CommitObserver | null = null;

  private constructor(path: string, mapSize: number) {
    this.path = path;
    this.#mapSize = Math.max(Math.floor(mapSize), 4096);
  }

  static open(path: string, mapSize: number): Environment {
    assertLmdbDataV1((lmdb as unknown as { version: LmdbVersion }).version);
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
   * the main thread only queues them) and resolves once it is durably on disk.
   */
  async commit(ops: WriteOp[] | RowBatch): Promise<void> {
    const rows = ops instanceof RowBatch ? ops : RowBatch.of(ops);
    if (rows.length === 0) return;
    const observer = this.commitObserver;
    await observer?.beforeCommit();
    try {
      await this.#commitRows(rows);
    } finally {
      observer?.afterCommit();
    }
  }

  async #commitRows(rows: RowBatch): Promise<void> {
    for (let growths = 0; ; growths++) {
      try {
        await this.#write(rows);
        return;
      } catch (err) {
        if (growths >= MAX_GROWTHS_PER_COMMIT) {
          throw new Error(`lmdb write failed with a map of ${this.#mapSize} bytes: ${describeError(err)}`, { cause: err });
        }
        await this.#grow(rows);
      }
    }
  }

  async #write(rows: RowBatch): Promise<void> {
    const dbs = this.#dbs;
    await this.#root.batch(() => rows.writeTo(dbs)).catch((err: unknown) => {
      // lmdb-js also rejects a separate `commitError` promise; it is the same failure.
      (err as { commitError?: Promise<unknown> }).commitError?.catch(() => undefined);
      throw err;
    });
    await this.#root.flushed;
  }

  /** Reopens with room for at least twice what `rows` carry on top of the current map. */
  async #grow(rows: RowBatch): Promise<void> {
    const bytes = rows.bytes + 64 * rows.length;
    await this.commitObserver?.beforeReopen();
    await this.#root.close();
    this.#mapSize = Math.max(this.#mapSize * 2, this.#mapSize + 4 * bytes);
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
      });
      try {
        const dbs = {} as Record<AnyDbName, BinaryDb>;
        for (const name of DB_NAMES) {
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

const MDB_MAP_FULL = -30792;


