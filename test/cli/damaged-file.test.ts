// The server on damaged copies of a real database: it refuses each at start with a message that
// says what is wrong (exit 1), and never dies of SIGBUS nor starts an empty database in its place.
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLmdbBackend } from '../../src/backends/lmdb/backend.ts';
import type { Event } from '../../src/common/types.ts';
import { cleanup, lmdbConf, spawnCli, tempDir, writeConf } from './helpers.ts';

afterEach(cleanup);

const EVENTS = 10_000;
// Made once, in a folder of its own (cleanup() removes the tests' folders after each test).
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-event-ts-damaged-'));
const original = path.join(folder, 'events.db');
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

beforeAll(async () => {
  const conf = lmdbConf();
  const backend = await openLmdbBackend({ ...(conf['backend'] as object), db_path: original } as never, { cleanup: false });
  for (let i = 0; i < EVENTS; i += 100) {
    const events: Event[] = Array.from({ length: 100 }, (_, j) => ({
      id: { server: 1, session: 1 + i / 100, instance: 1 + i + j }, type: ['m', String(j % 10)],
      timestamp: { s: 1_700_000_000 + i + j, us: 0 }, sourceTimestamp: null, payload: { type: 'json', data: i + j },
    }));
    await backend.register(events);
  }
  await backend.close();
}, 60_000);

/** Starts the server on a damaged copy; resolves with its exit and stderr. */
async function serveCopy(damage: (file: string) => void | Promise<void>): Promise<{ code: number | null; signal: string | null; stderr: string; file: string }> {
  const dir = await tempDir();
  const file = path.join(dir, 'data', 'events.db');
  fs.mkdirSync(path.dirname(file));
  fs.copyFileSync(original, file);
  await damage(file);
  const server = spawnCli(['server', '--conf', await writeConf(dir, lmdbConf())], { cwd: dir });
  const { code, signal } = await server.exited;
  return { code, signal, stderr: server.stderr(), file };
}

describe('the server on a damaged database file', () => {
  it('truncated to half or by 8 KiB: refused with the sizes, no SIGBUS', async () => {
    const full = fs.statSync(original).size;
    for (const cut of [Math.floor(full / 2), full - 8192]) {
      const { code, signal, stderr } = await serveCopy((file) => fs.truncateSync(file, cut));
      expect({ code, signal }).toEqual({ code: 1, signal: null });
      expect(stderr).toContain(`cannot open the database`);
      expect(stderr).toContain(`is truncated: ${cut} bytes, needs at least ${full}`);
    }
  }, 60_000);

  it('zero-length: refused instead of starting an empty database', async () => {
    const { code, signal, stderr, file } = await serveCopy((f) => fs.truncateSync(f, 0));
    expect({ code, signal }).toEqual({ code: 1, signal: null });
    expect(stderr).toContain('is empty (0 bytes)');
    expect(fs.statSync(file).size).toBe(0);
  }, 30_000);

  it("a partition's newest entry overwritten: refused, naming it", async () => {
    const { code, stderr } = await serveCopy(async (file) => {
      const root = open({ path: file, noSubdir: true, maxDbs: 8 });
      const data = root.openDB<Buffer, Buffer>({ name: 'ORDERED_DATA', encoding: 'binary', keyEncoding: 'binary' });
      const last = [...data.getKeys({ reverse: true, limit: 1 })][0]!;
      await data.put(Buffer.from(last), Buffer.alloc(40, 0xee));
      await root.close();
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/is inconsistent: partition 1's newest entry cannot be read/);
    expect(stderr).toContain('hat-event-ts lmdb verify');
  }, 30_000);
});
