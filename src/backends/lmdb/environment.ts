// The LMDB environment: one file (`db_path`, plus `<db_path>-lock`) holding Hat's seven named
// sub-databases. Keys and values are raw bytes; every layout lives in keys.ts/refs.ts.
import * as lmdb from 'lmdb';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assertLmdbDataV1, type LmdbVersion } from './data-format.ts';
import { RowBatch } from './row-batch.ts';
import { describeError } from '../../common/describe-error.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';

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

export type DbName = keyof typeof DbType;

/** Our own sub-dbs beside Hat's seven (Hat opens only its own by name and never sees these). */
const EXTRA_DB_NAMES = ['HAT_EVENT_TS_TYPE_INDEX'] as const;

type ExtraDbName = (typeof EXTRA_DB_NAMES)[number];

export type AnyDbName = DbName | ExtraDbName;

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

/** What lmdb-js's getStats() tells about a database and its environment (the fields used here). */
interface LmdbStats {
  pageSize: number;
  treeDepth: number;
  lastPageNumber: number;
}

/**
 * The open environment. `max_db_size` is where its map starts: the map grows (the file grows
 * only as pages are used). LMDB 0.9 (data format v1, the one Hat's LMDB reads) cannot enlarge a
 * map in place, so the environment is closed and reopened with a larger map, between writes,
 * before a write could run out of room: a write that does run out makes lmdb-js print raw lines
 * to stderr (`do_write error ...`, `MDB_BAD_TXN ...`), outside the log. Should it happen anyway,
 * the failed transaction was aborted whole, so the map grows and the same rows are written again,
 * and nothing committed is touched.
 */
export class Environment {
  readonly path: string;
  #mapSize: number;
  #usedBytes = 0;
  #root!: RootDatabase<Buffer, Buffer>;
  #dbs!: Record<AnyDbName, BinaryDb>;
  commitObserver: CommitObserver | null = null;
  readonly #logger: Logger;

  private constructor(path: string, mapSize: number, logger: Logger) {
    this.path = path;
    this.#mapSize = Math.max(Math.floor(mapSize), 4096);
    this.#logger = logger;
  }

  static open(path: string, mapSize: number, logger: Logger = silentLogger()): Environment {
    assertLmdbDataV1((lmdb as unknown as { version: LmdbVersion }).version);
    const env = new Environment(path, mapSize, logger);
    const from = env.#mapSize;
    env.#openHandles();
    if (env.#mapSize !== from) env.#grown(from, 'too small to open the file');
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

  /** Bytes of the map in use (its pages up to the highest written); the last answer while closed or reopening. */
  usedBytes(): number {
    try {
      const stats = this.#root.getStats() as { lastPageNumber?: number; pageSize?: number };
      if (stats.lastPageNumber !== undefined && stats.pageSize !== undefined) this.#usedBytes = (stats.lastPageNumber + 1) * stats.pageSize;
    } catch {
      // closed (the server is stopping) or between the close and reopen of a growth
    }
    return this.#usedBytes;
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
    const needed = this.#bytesAfter(rows);
    if (needed > this.#mapSize) await this.#resize(Math.max(this.#mapSize * 2, needed * 2), 'before a write that might not fit');
    for (let growths = 0; ; growths++) {
      try {
        await this.#write(rows);
        return;
      } catch (err) {
        if (growths >= MAX_GROWTHS_PER_COMMIT) {
          throw new Error(`lmdb write failed with a map of ${this.#mapSize} bytes: ${describeError(err)}`, { cause: err });
        }
        const bytes = rows.bytes + 64 * rows.length;
        await this.#resize(Math.max(this.#mapSize * 2, this.#mapSize + 4 * bytes), `after a failed write: ${describeError(err)}`);
      }
    }
  }

  /**
   * The map size a commit of `rows` needs at most: the pages in use (up to the last one, free
   * ones inside the file not counted) plus what the transaction may add. Each row may copy the
   * pages on its path down its tree and split every one of them, so 2 × (depth + 1) pages, plus
   * overflow pages for its bytes; the pages freed go to LMDB's free list, which takes a page id of
   * 8 bytes each; and a few pages for the sub-database records and the free list's own path.
   */
  #bytesAfter(rows: RowBatch): number {
    const root = this.#root.getStats() as LmdbStats;
    let depth = root.treeDepth;
    for (const db of Object.values(this.#dbs)) depth = Math.max(depth, (db.getStats() as LmdbStats).treeDepth);
    const { pageSize } = root;
    let pages = rows.length * (2 * (depth + 1) + 1) + Math.ceil(rows.bytes / pageSize);
    pages += Math.ceil((pages * 8) / pageSize) + depth + 16;
    return (root.lastPageNumber + 1 + pages) * pageSize;
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

  /** Reopens with a larger map (no transaction is open: commits are not concurrent). */
  async #resize(mapSize: number, why: string): Promise<void> {
    const from = this.#mapSize;
    await this.commitObserver?.beforeReopen();
    await this.#root.close();
    this.#mapSize = mapSize;
    this.#openHandles();
    this.#grown(from, why);
  }

  #grown(from: number, why: string): void {
    // a failed write means the bound in #bytesAfter was wrong: worth a warning, not just a note
    const log = why.startsWith('after') ? this.#logger.warning : this.#logger.info;
    log.call(this.#logger, 'lmdb map grown', { db_path: this.path, from, to: this.#mapSize, why });
  }

  #openHandles(): void {
    for (;;) {
      const root = openRoot(this.path, { mapSize: this.#mapSize });
      try {
        const dbs = {} as Record<AnyDbName, BinaryDb>;
        for (const name of ALL_DB_NAMES) dbs[name] = openSubDb(root, name);
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

/** Hat's sub-dbs */
export const DB_NAMES = Object.keys(DbType) as DbName[];
/** Every sub-db the environment opens, Hat's and ours. */
export const ALL_DB_NAMES: readonly AnyDbName[] = [...DB_NAMES, ...EXTRA_DB_NAMES];

/** The file as Hat opens it: one file (subdir=False, whatever its name), raw bytes. */
export function openRoot(path: string, options: { mapSize?: number; readOnly?: boolean }): RootDatabase<Buffer, Buffer> {
  return open<Buffer, Buffer>({
    path,
    ...options,
    noSubdir: true,
    maxDbs: ALL_DB_NAMES.length,
    encoding: 'binary',
    keyEncoding: 'binary',
  });
}

/** A named sub-db; read-only, one the file does not have is undefined (lmdb-js does not throw). */
export function openSubDb(root: RootDatabase<Buffer, Buffer>, name: AnyDbName): BinaryDb {
  return root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
}
