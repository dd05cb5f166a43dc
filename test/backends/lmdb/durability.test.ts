// Durability: a SIGKILLed process loses nothing it reported durable; a tiny max_db_size does not
// limit the file (the map is never smaller than MIN_MAP_SIZE) and writes past it leave no raw
// lmdb-js line on stderr; close/reopen keeps everything.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/common/types.ts';
import { c0, collect, E, openBackend, reopen, tempDbPath } from './helpers.ts';
import { MIN_MAP_SIZE } from '../../../src/backends/lmdb/environment.ts';
import { EARLY_FLUSH_BYTES } from '../../../src/backends/lmdb/backend.ts';
import { until } from '../../helpers/until.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs the child until it reported `sessions` durable sessions, then SIGKILLs it. */
function runAndKill(dbPath: string, mode: 'ack' | 'flushed', sessions: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'durability-child.ts'), dbPath, mode], {
      cwd: path.resolve(here, '../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reported: number[] = [];
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [, session, count] = line.split(' ');
        if (Number(count) !== 10) reject(new Error(`partial session reported: ${line}`));
        reported.push(Number(session));
      }
      if (reported.length >= sessions && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(reported);
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

async function checkReported(dbPath: string, reported: number[]): Promise<void> {
  const backend = await openBackend({ ...c0(), db_path: dbPath, max_db_size: 1024 * 1024 });
  const flushed = (await collect(backend.queryFlushed({ server: 1, session: 0, instance: 0 }))).flat();
  const sessions = new Map<number, Event[]>();
  for (const e of flushed) sessions.set(e.id.session, [...(sessions.get(e.id.session) ?? []), e]);
  for (const session of reported) {
    expect(sessions.get(session)?.length, `session ${session}`).toBe(10);
  }
  const last = await backend.getLastEventId(1);
  expect(last.session).toBeGreaterThanOrEqual(Math.max(...reported));
  expect((await backend.query({ maxResults: 1 }))[0]?.id).toEqual(last);
}

describe('LMDB backend durability', () => {
  it('flush_period 0: every acknowledged register survives SIGKILL', async () => {
    const dbPath = tempDbPath();
    const reported = await runAndKill(dbPath, 'ack', 40);
    expect(reported.length).toBeGreaterThanOrEqual(40);
    await checkReported(dbPath, reported);
  }, 60_000);

  it('periodic flush: every session reported to flushed callbacks survives SIGKILL', async () => {
    const dbPath = tempDbPath();
    const reported = await runAndKill(dbPath, 'flushed', 60);
    expect(reported.length).toBeGreaterThanOrEqual(60);
    await checkReported(dbPath, reported);
  }, 60_000);

  it('a tiny max_db_size does not limit the file, and nothing is lost', async () => {
    const conf = c0({ max_db_size: 16 * 1024 });
    let backend = await openBackend(conf);
    expect(backend.store.env.mapSize).toBe(MIN_MAP_SIZE);
    const events = Array.from({ length: 3000 }, (_, i) =>
      E(['big', String(i % 50)], { payload: { type: 'binary', data: new Uint8Array(500).fill(i % 256) } }));
    for (let i = 0; i < events.length; i += 500) {
      await backend.register(events.slice(i, i + 500));
      await backend.flush();
    }
    backend = await reopen(backend, conf);
    const all = await backend.query({ order: 'ascending' });
    expect(all.map((e) => e.id.instance)).toEqual(events.map((e) => e.id.instance));
    expect(all[2999]!.payload).toEqual(events[2999]!.payload);
    expect(await backend.query({ uniqueType: true })).toHaveLength(50);
  }, 60_000);

  it('writing far past a tiny max_db_size and querying on reader threads: stderr holds log lines only, the map is never grown', async () => {
    const dbPath = tempDbPath();
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'grow-child.ts'), dbPath], {
      cwd: path.resolve(here, '../../..'),
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout).toBe('queried 3000\nstored 3000\n');
    const lines = child.stderr.trim().split('\n').filter((line) => line !== '');
    // lmdb-js's own lines (`do_write error ...`, `Error: MDB_BAD_TXN ...`, `You chose to use
    // MDB_NOLOCK ...`) are not JSON
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((r) => r['msg'] === 'lmdb map grown')).toEqual([]);
    expect(records.some((r) => String(r['msg']).includes('query reader threads start'))).toBe(true);
    const backend = await openBackend(c0({ db_path: dbPath }));
    expect(await backend.query({ maxResults: 1 })).toEqual([expect.objectContaining({ id: { server: 1, session: 6, instance: 3000 } })]);
  }, 60_000);

  it('a long flush_period: what waits is written once it takes EARLY_FLUSH_BYTES, without waiting for the period', async () => {
    const backend = await openBackend(c0({ flush_period: 3600 }));
    const flushed: number[] = [];
    backend.onFlushed((events) => flushed.push(events.length));
    const payload = { type: 'json' as const, data: 'x'.repeat(1000) };
    let instance = 1;
    const session = async (s: number): Promise<void> => {
      await backend.register(Array.from({ length: 100 }, () => E('a', { session: s, instance: instance++, payload })));
    };
    for (let s = 1; s <= 10; s++) await session(s);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(flushed).toEqual([]); // 1,000 events (~4 MB estimated) wait for the period
    // about 3.8 KB each estimated (3 x 1 KB stored + 700): 16 MiB is ~4,400 events
    let s = 11;
    while (flushed.length === 0 && s < 100) await session(s++);
    await until(() => flushed.length > 0);
    const total = flushed.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(3_500);
    expect(total).toBeLessThan(6_000);
    expect(backend.flushStatus().pendingBytes).toBeLessThan(EARLY_FLUSH_BYTES);
    await backend.close();
  }, 30_000);
});
