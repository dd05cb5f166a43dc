// The LMDB environment: one file (`db_path`, plus `<db_path>-lock`) holding Hat's seven named
// sub-databases. Keys and values are raw bytes; every layout lives in keys.ts/refs.ts.
import { open, type Database, type RootDatabase } from 'lmdb';

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

export type BinaryDb = Database<Buffer, Buffer>;

export interface Environment {
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly dbs: Readonly<Record<DbName, BinaryDb>>;
}

export function openEnvironment(path: string, mapSize: number): Environment {
  const root = open<Buffer, Buffer>({
    path,
    mapSize: Math.max(Math.floor(mapSize), 4096),
    noSubdir: true, // Hat opens with subdir=False: a single file, whatever its name
    maxDbs: Object.keys(DbType).length,
    encoding: 'binary',
    keyEncoding: 'binary',
  });
  const dbs = {} as Record<DbName, BinaryDb>;
  for (const name of Object.keys(DbType) as DbName[]) {
    dbs[name] = root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
  }
  return { root, dbs };
}

/** One write: a put when `value` is a buffer, a delete when it is null. */
export interface WriteOp {
  db: BinaryDb;
  key: Buffer;
  value: Buffer | Uint8Array | null;
}

/**
 * Applies `ops` in one asynchronous LMDB transaction (executed on lmdb-js's write thread, so
 * the main thread only queues them) and resolves once it is durably on disk.
 */
export async function commitWrites(env: Environment, ops: WriteOp[]): Promise<void> {
  if (ops.length === 0) return;
  await env.root.batch(() => {
    for (const op of ops) {
      if (op.value === null) void op.db.remove(op.key);
      else void op.db.put(op.key, op.value as Buffer);
    }
  });
  await env.root.flushed;
}
