// An event database file opened for reading only (the `lmdb` command): an LMDB reader never
// blocks the writer, so this works on the file of a running server (ours or Hat's), and every
// read goes through one read transaction, so a command sees one consistent snapshot.
import * as lmdb from 'lmdb';
import type { RangeOptions, RootDatabase, Transaction } from 'lmdb';
import { existsSync, rmSync, statSync } from 'node:fs';
import { assertLmdbDataV1, type LmdbVersion } from './data-format.ts';
import { DB_NAMES, openRoot, openSubDb, type BinaryDb, type DbName } from './environment.ts';
import { describeError } from '../../common/describe-error.ts';
import { ResourceBase } from '../../common/resource.ts';

/** The file is missing, is not an LMDB file, or is an LMDB file without Hat's sub-databases. */
export class NotAnEventDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAnEventDatabaseError';
  }
}

export interface Row {
  key: Buffer;
  value: Buffer;
}

/** A Resource: `close()` ends the snapshot and closes the file. */
export class ReadOnlyEnvironment extends ResourceBase {
  readonly path: string;
  readonly dbs: Readonly<Record<DbName, BinaryDb>>;
  /** our type index (type-index.ts); null in a file only Hat has written */
  readonly typeIndex: BinaryDb | null;
  readonly #root: RootDatabase<Buffer, Buffer>;
  readonly #txn: Transaction;

  private constructor(path: string, root: RootDatabase<Buffer, Buffer>, dbs: Record<DbName, BinaryDb>, typeIndex: BinaryDb | null) {
    super();
    this.path = path;
    this.#root = root;
    this.dbs = dbs;
    this.typeIndex = typeIndex;
    this.#txn = root.useReadTransaction();
  }

  /**
   * Opens `path` read-only; throws NotAnEventDatabaseError, having written nothing, when it is
   * not an event database (LMDB creates `<path>-lock` on open: one this call created is removed).
   */
  static open(path: string): ReadOnlyEnvironment {
    assertLmdbDataV1((lmdb as unknown as { version: LmdbVersion }).version);
    let stat;
    try {
      stat = statSync(path);
    } catch (err) {
      throw new NotAnEventDatabaseError(`cannot open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeError(err)}`);
    }
    if (!stat.isFile()) throw new NotAnEventDatabaseError(`${path} is not a database file (a folder or device)`);
    if (stat.size === 0) throw new NotAnEventDatabaseError(`${path} is not an LMDB file (it is empty)`);
    const lockFile = `${path}-lock`;
    const lockExisted = existsSync(lockFile);
    let root: RootDatabase<Buffer, Buffer> | null = null;
    try {
      root = openRoot(path, { readOnly: true });
      const dbs = {} as Record<DbName, BinaryDb>;
      const missing: string[] = [];
      for (const name of DB_NAMES) {
        const db = openSubDb(root, name);
        if (db === undefined) missing.push(name);
        else dbs[name] = db;
      }
      if (missing.length > 0) {
        throw new NotAnEventDatabaseError(
          `${path} is an LMDB file but not an event database: it has no ${missing.join(', ')} sub-database${missing.length > 1 ? 's' : ''}`,
        );
      }
      return new ReadOnlyEnvironment(path, root, dbs, openSubDb(root, 'HAT_EVENT_TS_TYPE_INDEX') ?? null);
    } catch (err) {
      void root?.close();
      if (!lockExisted) rmSync(lockFile, { force: true });
      if (err instanceof NotAnEventDatabaseError) throw err;
      const code = (err as { code?: number }).code;
      throw new NotAnEventDatabaseError(code === MDB_INVALID ? `${path} is not an LMDB file` : `cannot open ${path}: ${describeError(err)}`);
    }
  }

  /** Rows of `db` in key order (or reverse), from the snapshot; keys and values are copies. */
  *rows(db: BinaryDb, range: RangeOptions = {}): Generator<Row> {
    for (const { key, value } of db.getRange({ ...range, transaction: this.#txn })) {
      yield { key: Buffer.from(key), value: Buffer.from(value) };
    }
  }

  /** The snapshot, for a read through the layout's own helpers. */
  get transaction(): Transaction {
    return this.#txn;
  }

  get(db: BinaryDb, key: Buffer): Buffer | undefined {
    const value = db.get(key, { transaction: this.#txn });
    return value === undefined ? undefined : Buffer.from(value);
  }

  /** Rows in `db` (LMDB's own count, no scan). */
  entryCount(db: BinaryDb): number {
    return (db.getStats() as { entryCount?: number }).entryCount ?? 0;
  }

  protected override teardown(): Promise<void> {
    this.#txn.done();
    return this.#root.close();
  }
}

const MDB_INVALID = -30793;
