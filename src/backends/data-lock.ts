// One server per database file. LMDB itself lets several processes share an environment, so a
// second server on the same file would interleave session numbers; a pid file next to the
// database (`<db_path>-server.pid`) keeps it out. A pid file whose process is gone (a crash,
// SIGKILL) is stale and taken over.
import { open, readFile, unlink } from 'node:fs/promises';
import { ResourceBase } from '../common/resource.ts';

export class DataLockedError extends Error {
  constructor(readonly dbPath: string, readonly pid: number) {
    super(`database ${dbPath} is locked: another server (pid ${pid}) is using it`);
    this.name = 'DataLockedError';
  }
}

/** Paths locked by this process (a pid file naming ourselves is live only if listed here). */
const heldHere = new Set<string>();

/** Held until closed: `close()` releases the lock. */
export class DataLock extends ResourceBase {
  constructor(readonly file: string) {
    super();
    heldHere.add(file);
  }

  protected override async teardown(): Promise<void> {
    heldHere.delete(this.file);
    await unlink(this.file).catch(() => undefined);
  }
}

export function lockFileOf(dbPath: string): string {
  return `${dbPath}-server.pid`;
}

export async function acquireDataLock(dbPath: string): Promise<DataLock> {
  const file = lockFileOf(dbPath);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return new DataLock(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (owner !== null && isAlive(owner, file)) throw new DataLockedError(dbPath, owner);
    await unlink(file).catch(() => undefined); // stale: its process is gone
  }
  throw new Error(`cannot take the lock ${file}: it keeps reappearing`);
}

async function readOwner(file: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number, file: string): boolean {
  if (pid === process.pid) return heldHere.has(file);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
