// A compacted copy of an event database file (`lmdb copy`): every row of one read snapshot of
// the source is written in key order into a fresh file, so the copy has no free pages and full
// B-tree pages, and opens in Hat 0.8 and here like the source. Without the latest or the
// ordered tables, the REF sets keep only the refs to what was copied.
//
// The copy is written to `<dst>.partial-<pid>` and only linked to `dst` once it is complete and
// durable (a link, unlike a rename, never replaces a file that appeared meanwhile), so an
// interrupted copy never leaves a `dst` behind.
import { closeSync, existsSync, fsyncSync, linkSync, openSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { DbType, Environment, type AnyDbName, type BinaryDb, type WriteOp } from './environment.ts';
import { ReadOnlyEnvironment } from './read-only.ts';
import { splitRefs } from './refs.ts';

export interface CopyOptions {
  /** leave out LATEST_DATA and LATEST_TYPE (and the refs to them) */
  skipLatest?: boolean;
  /** leave out the ordered partitions and our type index (and the refs to them) */
  skipOrdered?: boolean;
  /** stops the copy between two write transactions; nothing is left behind */
  signal?: AbortSignal;
  /** after each write transaction */
  onProgress?: (progress: CopyProgress) => void;
}

export interface CopyProgress {
  rows: number;
  /** rows of the copied tables in the source (REF rows left empty by a skip are not written) */
  totalRows: number;
}

export interface CopyResult extends CopyProgress {
  /** REF rows written: the events reachable in the copy */
  events: number;
  sourceBytes: number;
  bytes: number;
}

export class CopyInterruptedError extends Error {
  constructor() {
    super('copy interrupted, nothing written');
    this.name = 'CopyInterruptedError';
  }
}

/** Rows and bytes per write transaction: large enough to amortise the commit's sync. */
const CHUNK_ROWS = 20_000;
const CHUNK_BYTES = 16 * 1024 * 1024;

export async function copyEventDatabase(srcPath: string, dstPath: string, options: CopyOptions = {}): Promise<CopyResult> {
  const { skipLatest = false, skipOrdered = false, signal, onProgress } = options;
  if (existsSync(dstPath)) throw new Error(`${dstPath} already exists (a copy never overwrites)`);
  const dir = path.dirname(path.resolve(dstPath));
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`cannot write ${dstPath}: no folder ${dir}`);
  const src = ReadOnlyEnvironment.open(srcPath);
  const sourceBytes = statSync(srcPath).size;
  const partial = `${dstPath}.partial-${process.pid}`;
  let dst: Environment | null = null;
  try {
    const tables: [AnyDbName, BinaryDb][] = [['SYSTEM', src.dbs.SYSTEM]];
    if (!skipLatest) tables.push(['LATEST_TYPE', src.dbs.LATEST_TYPE], ['LATEST_DATA', src.dbs.LATEST_DATA]);
    if (!skipOrdered) {
      tables.push(['ORDERED_PARTITION', src.dbs.ORDERED_PARTITION], ['ORDERED_COUNT', src.dbs.ORDERED_COUNT], ['ORDERED_DATA', src.dbs.ORDERED_DATA]);
      if (src.typeIndex !== null) tables.push(['HAT_EVENT_TS_TYPE_INDEX', src.typeIndex]);
    }
    const progress: CopyProgress = { rows: 0, totalRows: 0 };
    for (const [, db] of tables) progress.totalRows += src.entryCount(db);
    progress.totalRows += src.entryCount(src.dbs.REF);

    dst = Environment.open(partial, sourceBytes); // the map: at least MIN_MAP_SIZE of address space
    let batch: WriteOp[] = [];
    let batchBytes = 0;
    const commit = async (): Promise<void> => {
      if (signal?.aborted) throw new CopyInterruptedError();
      await dst!.commit(batch);
      progress.rows += batch.length;
      batch = [];
      batchBytes = 0;
      onProgress?.({ ...progress });
    };
    const put = async (db: AnyDbName, key: Buffer, value: Buffer): Promise<void> => {
      batch.push({ db, key, value });
      batchBytes += key.length + value.length;
      if (batch.length >= CHUNK_ROWS || batchBytes >= CHUNK_BYTES) await commit();
    };
    for (const [name, db] of tables) for (const { key, value } of src.rows(db)) await put(name, key, value);
    let events = 0;
    const skipped = new Set<number>([...(skipLatest ? [DbType.LATEST_DATA] : []), ...(skipOrdered ? [DbType.ORDERED_DATA] : [])]);
    for (const { key, value } of src.rows(src.dbs.REF)) {
      const refs = skipped.size === 0 ? value : Buffer.concat(splitRefs(value).filter((ref) => !skipped.has(ref[0]!)));
      if (refs.length === 0) {
        progress.totalRows -= 1;
        continue;
      }
      events += 1;
      await put('REF', key, refs);
    }
    await commit();
    await dst.close();
    dst = null;
    linkSync(partial, dstPath);
    syncFolder(dir);
    return { ...progress, events, sourceBytes, bytes: statSync(dstPath).size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${dstPath} appeared during the copy; it was left as it is`);
    throw err;
  } finally {
    await dst?.close();
    await src.close();
    rmSync(partial, { force: true });
    rmSync(`${partial}-lock`, { force: true });
  }
}

/** The new directory entry is durable too, not only the file's data. */
function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
