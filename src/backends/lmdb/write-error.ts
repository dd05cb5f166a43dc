// Why a write transaction failed, told apart, because each asks for something else: the storage
// refusing it (no space, an I/O error, a quota: keep the events in memory and write again
// later), a full map (the file reached max_db_size: a restart with a larger one), or a broken
// database or a bug (nothing to wait for: the backend closes).
import { statfsSync } from 'node:fs';
import { constants } from 'node:os';
import * as path from 'node:path';
import { describeError } from '../../common/describe-error.ts';

export type WriteFailureKind = 'map-full' | 'storage' | 'broken';

const MDB_MAP_FULL = -30792;
/**
 * lmdb-js's write thread goes on after a failed put, so a transaction that ran out of map room
 * mostly reports the later puts' MDB_BAD_TXN instead. A disk that cannot take the pages fails at
 * the commit with an errno, never with this. (After a failed meta page write LMDB answers
 * MDB_PANIC to every later write: a broken environment, which only a restart reopens.)
 */
const MDB_BAD_TXN = -30782;

const { ENOSPC, EIO, EDQUOT, EFBIG, EROFS } = constants.errno;
/** Errors of the storage under the file that go away by themselves or by an operator's hand. */
const STORAGE_ERRNOS = new Map<number | undefined, string>([
  [ENOSPC, 'no space left on the device'],
  [EIO, 'I/O error'],
  [EDQUOT, 'disk quota exceeded'],
  [EFBIG, 'file too large'],
  [EROFS, 'read-only file system'],
]);

/** Below this many free bytes, an EIO is taken for a full device (see `classifyWriteError`). */
const NEARLY_FULL_BYTES = 1024 * 1024;

export class LmdbWriteError extends Error {
  readonly kind: WriteFailureKind;
  /** lmdb's code: a positive errno or a negative MDB_ code; null when it came with none */
  readonly code: number | null;

  constructor(kind: WriteFailureKind, code: number | null, message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'LmdbWriteError';
    this.kind = kind;
    this.code = code;
  }

  /** True when waiting (and retrying) can help. */
  get retryable(): boolean {
    return this.kind === 'storage';
  }
}

/**
 * lmdb-js rejects a failed asynchronous commit with a generic error whose `commitError` promise
 * carries the real one (with LMDB's code); errors of other calls carry the code themselves.
 */
export async function commitFailureOf(err: unknown): Promise<unknown> {
  const detail = (err as { commitError?: Promise<unknown> } | null)?.commitError;
  if (detail === undefined) return err;
  let timer: NodeJS.Timeout | undefined;
  try {
    // It is rejected in the same callback as `err`; the timer only guards against a path where
    // lmdb-js never settles it.
    return await Promise.race([
      detail.then(() => err, (real: unknown) => real),
      new Promise((resolve) => (timer = setTimeout(() => resolve(err), 1000))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Names the failure of a write to `file`. LMDB 0.9 reports a short write, which is how a full
 * device usually shows, as EIO: an EIO while the device has less than 1 MiB free is reported as
 * no space left.
 */
export function classifyWriteError(err: unknown, file: string): LmdbWriteError {
  if (err instanceof LmdbWriteError) return err;
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'number' ? raw : null;
  const text = describeError(err);
  if (code === MDB_MAP_FULL || code === MDB_BAD_TXN) return new LmdbWriteError('map-full', code, text, err);
  const name = STORAGE_ERRNOS.get(code ?? undefined);
  if (name === undefined) return new LmdbWriteError('broken', code, text, err);
  if (code === EIO) {
    const free = freeBytes(file);
    if (free !== null && free < NEARLY_FULL_BYTES) {
      return new LmdbWriteError('storage', code, `no space left on the device (${free} bytes free; LMDB reports the short write as EIO)`, err);
    }
  }
  const errno = Object.entries(constants.errno).find(([, value]) => value === code)?.[0];
  return new LmdbWriteError('storage', code, `${name} (${errno})`, err);
}

function freeBytes(file: string): number | null {
  try {
    const stats = statfsSync(path.dirname(file));
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}
