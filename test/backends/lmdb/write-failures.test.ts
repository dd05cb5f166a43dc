// A store that cannot write (a write error injected into the real backend's environment, as
// lmdb-js reports ENOSPC): nothing accepted is lost, the write is retried, registrations past the
// budget are refused, flushStatus() says so, and a stop says exactly what could not be written.
// test/cli/disk-full.test.ts drives the same path with a real full file system.
import { describe, expect, it } from 'vitest';
import type { LmdbBackendConf } from '../../../src/backends/lmdb/conf.ts';
import { classifyWriteError } from '../../../src/backends/lmdb/write-error.ts';
import type { Event } from '../../../src/common/types.ts';
import { captureLogger, type CaptureLogger } from '../../helpers/logger.ts';
import { breakDisk, c0, collect, E, openBackend, until } from './helpers.ts';

const keysOf = (events: (Event | null)[]): string[] => events.filter((e) => e !== null).map((e) => `${e!.id.session}/${e!.id.instance}`);

async function storedIds(conf: LmdbBackendConf): Promise<string[]> {
  const backend = await openBackend(conf);
  const flushed = (await collect(backend.queryFlushed({ server: 1, session: 0, instance: 0 }))).flat();
  await backend.close();
  return keysOf(flushed);
}

const payload = { type: 'json' as const, data: 'x'.repeat(1000) };

describe('LMDB backend when the store cannot write', () => {
  it('keeps accepted events in memory within max_pending_bytes, retries, and writes them all when space returns', async () => {
    const conf = c0({ flush_period: 0.05, max_pending_bytes: 1024 * 1024 });
    const log: CaptureLogger = captureLogger();
    const backend = await openBackend(conf, { cleanup: false, logger: log });
    const before = await backend.register([E('a', { session: 1, instance: 1, payload })]);
    await backend.flush();
    const disk = breakDisk(backend);

    const acknowledged: (Event | null)[] = [...before];
    let refused = 0;
    let instance = 2;
    for (let session = 2; refused === 0 && session < 1000; session++) {
      const results = await backend.register(Array.from({ length: 10 }, () => E('a', { session, instance: instance++, payload })));
      refused += results.filter((e) => e === null).length;
      acknowledged.push(...results);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // the budget, not the disk, decided when to refuse: about 1 MiB / (3 x 1 KB + 700 B) events
    expect(refused).toBe(10);
    const accepted = keysOf(acknowledged);
    expect(accepted.length).toBeGreaterThan(200);
    expect(accepted.length).toBeLessThan(300);
    const health = backend.flushStatus();
    expect(health).toMatchObject({ writable: false, reason: expect.stringMatching(/no space left/), maxPendingBytes: 1024 * 1024 });
    expect(health.pendingEvents).toBe(accepted.length - 1);
    expect(health.pendingBytes).toBeGreaterThanOrEqual(1024 * 1024);
    await until(() => disk.attempts() >= 3); // retried, and again
    expect(log.lines.filter((l) => l.message === 'the store still cannot write')).toHaveLength(disk.attempts() - 1);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      'the store cannot write: accepted events stay in memory and the write is retried',
    ]);
    expect(log.lines.find((l) => l.message === 'events refused: the store cannot write')?.fields).toMatchObject({
      events: 10, reason: expect.stringMatching(/^backpressure: max_pending_bytes \(1048576\)/),
    });

    disk.heal();
    await until(() => backend.flushStatus().writable);
    expect(backend.flushStatus().pendingEvents).toBe(0);
    expect(log.text()).toMatch(/the store writes again/);
    // accepted again
    const [after] = await backend.register([E('a', { session: 5000, instance: 100_000, payload })]);
    expect(after).not.toBeNull();
    await backend.close();
    expect(backend.failure).toBeUndefined();
    expect(await storedIds(conf)).toEqual([...accepted, keysOf([after!])[0]]);
  }, 30_000);

  it('flush_period 0: a registration waits for its own commit through the failure; new ones are refused meanwhile', async () => {
    const conf = c0({ flush_period: 0 });
    const log = captureLogger();
    const backend = await openBackend(conf, { cleanup: false, logger: log });
    expect(await backend.register([E('a', { session: 1, instance: 1 })])).not.toContain(null);
    const disk = breakDisk(backend);
    let answered = false;
    const waiting = backend.register([E('a', { session: 2, instance: 2 })]).then((r) => {
      answered = true;
      return r;
    });
    await until(() => !backend.flushStatus().writable);
    // nothing can be acknowledged now, so nothing more is accepted
    expect(await backend.register([E('a', { session: 3, instance: 3 })])).toEqual([null]);
    expect(answered).toBe(false);
    disk.heal();
    expect(keysOf(await waiting)).toEqual(['2/2']);
    expect(await backend.register([E('a', { session: 4, instance: 4 })])).not.toContain(null);
    await backend.close();
    expect(await storedIds(conf)).toEqual(['1/1', '2/2', '4/4']);
  }, 30_000);

  it('a stop that cannot write says exactly how many acknowledged events are lost', async () => {
    const conf = c0({ flush_period: 30 });
    const backend = await openBackend(conf, { cleanup: false });
    await backend.register([E('a', { session: 1, instance: 1 }), E('a', { session: 1, instance: 2 })]);
    await backend.flush();
    breakDisk(backend);
    await backend.register([E('a', { session: 2, instance: 3 }), E('a', { session: 2, instance: 4 }), E('a', { session: 2, instance: 5 })]);
    await backend.close();
    expect(backend.failure?.message).toMatch(/^3 acknowledged events could not be written \(no space left on the device/);
    expect(await storedIds(conf)).toEqual(['1/1', '1/2']);
  });

  it('a write that fails for another reason closes the backend', async () => {
    const conf = c0({ flush_period: 0.05 });
    const log = captureLogger();
    const backend = await openBackend(conf, { cleanup: false, logger: log });
    const env = backend.store.env;
    env.commit = async () => {
      throw classifyWriteError(Object.assign(new Error('MDB_CORRUPTED: Located page was wrong type'), { code: -30796 }), env.path);
    };
    await backend.register([E('a', { session: 1, instance: 1 })]);
    await backend.closed;
    expect(backend.failure?.message).toMatch(/MDB_CORRUPTED/);
    expect(log.text()).toMatch(/closes after a background failure/);
  });
});
