// The LMDB environment: one file (`db_path`, plus `<db_path>-lock`) holding Hat's seven named
// sub-databases. Keys and values are raw bytes; every layout lives in keys.ts/refs.ts.
import * as lmdb from 'lmdb';
import { open, type Database, type RootDatabase, type RootDatabaseOptions } from 'lmdb';
import { assertLmdbDataV1, type LmdbVersion } from './data-format.ts';
import { opsSource, type RowSink, type RowSource } from './row-batch.ts';
import { checkLmdbFile } from './file-check.ts';
import { classifyWriteError, commitFailureOf, LmdbWriteError } from './write-error.ts';

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
 * table must not start a snapshot while a commit writes the meta page).
 */
export interface CommitObserver {
  beforeCommit(): Promise<void>;
  afterCommit(): void;
}

export type BinaryDb = Database<Buffer, Buffer>;

/** One write: a put when `value` is a buffer, a delete when it is null. */
export interface WriteOp {
  db: AnyDbName;
  key: Buffer;
  value: Buffer | Uint8Array | null;
}

/**
 * The smallest map. The map is address space only (LMDB 0.9 without MDB_WRITEMAP grows the file
 * as it writes pages), and it must never need enlarging: LMDB 0.9 cannot enlarge a map in a
 * running process but by reopening the environment, and lmdb-js as built for data format v1
 * never really closes one (it calls mdb_env_close only for environments it tracks, which it does
 * only for format v2), so a reopen would keep the old mapping and its pages for the life of the
 * process and open a second environment on the file, whose open resets LMDB's table of readers.
 * Reader threads (readers/) map the same size, so they see every page the writer may write.
 */
export const MIN_MAP_SIZE = 256 * 1024 ** 3;

/** The open environment: one per file and process, never reopened (see MIN_MAP_SIZE). */
export class Environment {
  readonly path: string;
  readonly mapSize: number;
  readonly #root: RootDatabase<Buffer, Buffer>;
  readonly #dbs: Record<AnyDbName, BinaryDb>;
  #usedBytes = 0;
  commitObserver: CommitObserver | null = null;

  private constructor(path: string, maxDbSize: number) {
    this.path = path;
    this.mapSize = Math.max(Math.floor(maxDbSize), MIN_MAP_SIZE);
    // Writes go in explicit batches only. With batching per event turn, lmdb-js also makes a
    // commit promise of its own that nobody awaits: a failed commit (a full disk) would reject
    // it and end the process with an unhandled rejection.
    this.#root = openRoot(path, { mapSize: this.mapSize, eventTurnBatching: false });
    const dbs = {} as Record<AnyDbName, BinaryDb>;
    for (const name of ALL_DB_NAMES) dbs[name] = openSubDb(this.#root, name);
    this.#dbs = dbs;
  }

  /** `maxDbSize`: Hat's max_db_size; the map is never smaller than MIN_MAP_SIZE. */
  static open(path: string, maxDbSize: number): Environment {
    assertLmdbDataV1((lmdb as unknown as { version: LmdbVersion }).version);
    checkLmdbFile(path); // before LMDB maps it: a truncated file would be a SIGBUS
    return new Environment(path, maxDbSize);
  }

  get root(): RootDatabase<Buffer, Buffer> {
    return this.#root;
  }

  get dbs(): Readonly<Record<AnyDbName, BinaryDb>> {
    return this.#dbs;
  }

  /** Bytes of the map in use (its pages up to the highest written); the last answer once closed. */
  usedBytes(): number {
    try {
      const stats = this.#root.getStats() as { lastPageNumber?: number; pageSize?: number };
      if (stats.lastPageNumber !== undefined && stats.pageSize !== undefined) this.#usedBytes = (stats.lastPageNumber + 1) * stats.pageSize;
    } catch {
      // closed: the server is stopping
    }
    return this.#usedBytes;
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
    const observer = this.commitObserver;
    await observer?.beforeCommit();
    try {
      await this.#root.batch(() => rows.writeTo(new LmdbSink(this.#dbs)));
      await this.#root.flushed;
    } catch (err) {
      const failure = classifyWriteError(await commitFailureOf(err), this.path);
      if (failure.kind !== 'map-full') throw failure;
      throw new LmdbWriteError('broken', failure.code, `the database reached its map size of ${this.mapSize} bytes: ` +
        `restart with a larger max_db_size (${failure.message})`, failure);
    } finally {
      observer?.afterCommit();
    }
  }
}

/** Issues rows to lmdb-js inside a batch. */
class LmdbSink implements RowSink {
  readonly #dbs: Readonly<Record<AnyDbName, BinaryDb>>;

  constructor(dbs: Readonly<Record<AnyDbName, BinaryDb>>) {
    this.#dbs = dbs;
  }

  put(db: AnyDbName, key: Uint8Array, value: Uint8Array): void {
    void this.#dbs[db].put(key as Buffer, value as Buffer);
  }

  remove(db: AnyDbName, key: Uint8Array): void {
    void this.#dbs[db].remove(key as Buffer);
  }
}

/** Hat's sub-dbs */
export const DB_NAMES = Object.keys(DbType) as DbName[];
/** Every sub-db the environment opens, Hat's and ours. */
export const ALL_DB_NAMES: readonly AnyDbName[] = [...DB_NAMES, ...EXTRA_DB_NAMES];

/** The file as Hat opens it: one file (subdir=False, whatever its name), raw bytes. */
export function openRoot(
  path: string,
  options: Pick<RootDatabaseOptions, 'mapSize' | 'readOnly' | 'eventTurnBatching'>,
): RootDatabase<Buffer, Buffer> {
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
