// A reader thread's own read-only handle on the LMDB file, opened WITHOUT LMDB's lock table
// (MDB_NOLOCK). Why: with LMDB 0.9 (data format v1, the format Hat reads) lmdb-js cannot share
// one environment between threads, and a second locked environment on the same file in the
// same process is what LMDB forbids: its lock-file check is a per-process fcntl lock, so the
// second open believes it is alone and resets the lock table (the main thread's readers
// vanish from it, and the writer may then reuse pages they still read). A lock-free handle
// never touches the lock file; what the lock table would have guaranteed is kept by the
// snapshot gate (snapshot-gate.ts) and the main thread's pins (reader-pool.ts).
//
// lmdb-js has no option for MDB_NOLOCK, and its native Env.open cannot be replaced, so this
// thread (only reader threads import this file) hands lmdb-js's open a subclass of Env that
// adds the flag, through the module lmdb-js's open takes Env from; openLockFree checks that
// it took effect.
import { openBorrowedRange } from './borrowed-range.ts';
import * as lmdb from 'lmdb';
import { open, type RootDatabase } from 'lmdb';
import { ALL_DB_NAMES, openSubDb, type AnyDbName, type BinaryDb } from '../environment.ts';

const MDB_NOLOCK = 0x400000;

type NativeEnv = new () => { open(options: object, flags: number, jsFlags: number): number };
const { nativeAddon } = lmdb as unknown as { nativeAddon: { Env: NativeEnv } };
class LockFreeNativeEnv extends nativeAddon.Env {
  override open(options: object, flags: number, jsFlags: number): number {
    return super.open(options, flags | MDB_NOLOCK, jsFlags);
  }
}
// lmdb-js's package exports hide native.js: reach it next to the entry lmdb resolves to.
const native = (await import(new URL('native.js', import.meta.resolve('lmdb')).href)) as {
  setNativeFunctions(externals: object): void;
};
native.setNativeFunctions(Object.assign(Object.create(nativeAddon) as object, { Env: LockFreeNativeEnv }));

export interface LockFreeEnv {
  readonly path: string;
  readonly mapSize: number;
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly dbs: Readonly<Record<AnyDbName, BinaryDb>>;
  /** scan.ts ReadView.borrowedRange */
  readonly borrowedRange: BinaryDb;
}

/** Opens `path` read-only and lock-free; call only with the snapshot gate entered. */
export function openLockFree(path: string, mapSize: number): LockFreeEnv {
  const root = open<Buffer, Buffer>({
    path,
    mapSize,
    noSubdir: true,
    readOnly: true,
    maxDbs: ALL_DB_NAMES.length,
    encoding: 'binary',
    keyEncoding: 'binary',
  });
  try {
    // LMDB answers this for an environment without a lock table.
    if (!root.readerList().includes('no reader locks')) throw new Error('the reader environment was opened with a lock table');
    const dbs = {} as Record<AnyDbName, BinaryDb>;
    for (const name of ALL_DB_NAMES) dbs[name] = openSubDb(root, name);
    return { path, mapSize, root, dbs, borrowedRange: openBorrowedRange(root) };
  } catch (err) {
    void root.close();
    throw err;
  }
}
