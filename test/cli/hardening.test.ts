// The attacks of the edge-hardening issue against a real server process (CLI, LMDB backend),
// while a well-behaved client registers throughout: every one of its requests must succeed, the
// server must stay up, and its memory (read from /proc) must stay under the configured ceiling
// plus a fixed overhead.
import { afterEach, describe, expect, it } from 'vitest';
import {
  badFrames, memorySampler, connectionFlood, goodClient, memoryOf, MiB, partialFrames, slowReaders,
} from '../../bench/attack-clients.ts';
import { connectEventer } from '../../src/eventer/client.ts';
import type { RegisterEvent } from '../../src/common/types.ts';
import { cleanup, fixture, lmdbConf, spawnCli, tempDir, writeConf, type CliProcess } from './helpers.ts';

afterEach(cleanup);

/**
 * What a server process may grow by beyond its ceilings: buffers already let go of but not yet
 * collected (V8 collects them once external memory has grown by about 64 MiB) and allocator slack.
 * Memory is the anonymous resident part: the pages of the mapped LMDB file are the kernel's cache.
 */
const OVERHEAD_MIB = 128;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const small = (): RegisterEvent[] => [{ type: ['good'], sourceTimestamp: null, payload: { type: 'json', data: 1 } }];

async function start(eventer: Record<string, unknown> = {}, opts: { openFiles?: number; modules?: object[] } = {}): Promise<{ server: CliProcess; address: string; pid: number }> {
  const dir = await tempDir();
  const conf = lmdbConf({ modules: opts.modules }) as { eventer_server: Record<string, unknown> };
  Object.assign(conf.eventer_server, eventer);
  const server = spawnCli(['server', '--conf', await writeConf(dir, conf)], { cwd: dir, openFiles: opts.openFiles });
  const address = await server.address();
  return { server, address, pid: server.child.pid! };
}

/** The server still answers, and stops cleanly. */
async function stillServes(server: CliProcess, address: string): Promise<void> {
  const client = await connectEventer(address);
  try {
    expect(await client.registerWithResponse(small())).toHaveLength(1);
  } finally {
    await client.close();
  }
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

const logsMatching = (server: CliProcess, pattern: RegExp) => server.logs.filter((l) => pattern.test(JSON.stringify(l)));

/** Waits until `cond` holds or `ms` have passed: a loaded machine delivers an attack more slowly. */
async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(50);
}

describe('memory ceilings (real server process)', () => {
  it('partial frames: past max_input_bytes the newest offender is closed; memory stays under the ceiling', async () => {
    const { server, address, pid } = await start({ max_input_bytes: 32 * MiB, max_frame_size: 32 * MiB });
    const good = goodClient(address, small);
    await sleep(500);
    const before = memoryOf(pid).anon;
    const during = memorySampler(pid);
    const attack = await partialFrames(address, 12, 30 * MiB, 28 * MiB); // 336 MiB if nothing stopped it
    await sleep(300);
    const grown = during.stop().anon - before;
    const closed = await attack.closedByServer();
    attack.release();
    const tally = await good.stop();
    expect(closed).toBeGreaterThanOrEqual(11); // at most one 28 MiB body fits in 32 MiB
    expect(grown).toBeLessThan(32 + OVERHEAD_MIB);
    expect(tally).toMatchObject({ failed: 0 });
    expect(tally.ok).toBeGreaterThan(10);
    expect(logsMatching(server, /over max_input_bytes/).length).toBe(Math.min(closed, 10)); // 10 a minute, then a count
    await stillServes(server, address);
  });

  it('slow readers: past max_output_bytes the newest offender is closed; memory stays under the ceiling', async () => {
    const { server, address, pid } = await start({ max_output_bytes: 32 * MiB });
    // the good client's own traffic (a 256 KiB event every 20 ms) is the baseline
    const payload = { type: 'binary' as const, data: new Uint8Array(256 * 1024) };
    const good = goodClient(address, () => [{ type: ['big'], sourceTimestamp: null, payload }], 20);
    const alone = memorySampler(pid);
    await sleep(2000);
    const before = alone.stop().anon;
    const during = memorySampler(pid);
    // each is sent every event: 8 × 12 MiB/s, of which the kernel takes only ~4 MiB per socket
    const readers = await slowReaders(address, 8);
    // Evictions follow the traffic: on a loaded machine the good client sends (and so fills the
    // readers) more slowly, so wait for them by what the server logs, not by a fixed time.
    await waitFor(() => logsMatching(server, /over max_output_bytes/).length >= 7, 30_000);
    const grown = during.stop().anon - before;
    const tally = await good.stop();
    const closed = await readers.closedByServer();
    readers.release();
    expect(grown).toBeLessThan(32 + OVERHEAD_MIB);
    expect(closed).toBeGreaterThanOrEqual(7); // the last one alone may stay within 32 MiB
    expect(tally).toMatchObject({ failed: 0 });
    expect(tally.ok).toBeGreaterThan(50);
    expect(logsMatching(server, /over max_output_bytes/)).toHaveLength(closed);
    await stillServes(server, address);
  }, 60_000);
});

describe('connections and file descriptors (real server process)', () => {
  it('with 256 open files, max_connections is lowered to fit; a flood past it is refused at once, in 10 log lines', async () => {
    const { server, address } = await start({}, { openFiles: 256 });
    expect(logsMatching(server, /max_connections lowered to fit the open files limit/)[0]).toMatchObject({ effective: 192 });
    const good = goodClient(address, small);
    await sleep(200);
    const outcome = await connectionFlood(address, 400);
    const tally = await good.stop();
    expect(outcome.hung).toBe(0);
    expect(outcome.served).toBe(191); // the good client holds the 192nd place
    expect(outcome.refused).toBe(209);
    expect(tally).toMatchObject({ failed: 0 });
    // 209 refusals, 10 lines: the rest are counted into one summary at the end of the minute
    expect(logsMatching(server, /"msg":"connection refused"/)).toHaveLength(10);
    await stillServes(server, address);
  });

  it('out of file descriptors (EMFILE), the system closes new connections; it is logged and serving goes on', async () => {
    // a module holds 150 of 256 descriptors, so they run out before max_connections (192)
    const modules = [{ module: fixture('holds-files.ts'), workers: 0, files: 150 }];
    const { server, address } = await start({}, { openFiles: 256, modules });
    const good = goodClient(address, small);
    await sleep(200);
    const outcome = await connectionFlood(address, 150);
    const tally = await good.stop();
    expect(outcome.hung).toBe(0);
    expect(outcome.served).toBeGreaterThan(20);
    expect(outcome.served).toBeLessThan(150);
    expect(tally).toMatchObject({ failed: 0 });
    expect(logsMatching(server, /out of file descriptors/).length).toBeGreaterThan(0);
    await stillServes(server, address);
  });

  it('900 rejected connections make 10 log lines, not 900', async () => {
    const { server, address } = await start();
    await badFrames(address, 900);
    await sleep(200);
    expect(logsMatching(server, /"msg":"connection closed"/)).toHaveLength(10);
    await stillServes(server, address);
  });
});

describe('odd values from clients (real server process, LMDB)', () => {
  it("source timestamps Hat stores are stored as sent and survive a restart; deep JSON fails alone", async () => {
    const dir = await tempDir();
    const confFile = await writeConf(dir, lmdbConf({ flush_period: 0.1 }));
    const first = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const client = await connectEventer(await first.address());
    const odd = [1_000_000, -1, 2 ** 31, -(2 ** 40)];
    const events: RegisterEvent[] = odd.map((us) => ({ type: ['odd'], sourceTimestamp: { s: 0, us }, payload: null }));
    const deep = { type: 'json' as const, data: null, text: '['.repeat(100_000) + ']'.repeat(100_000) };
    const results = await client.registerWithResponse([...events, { type: ['deep'], sourceTimestamp: null, payload: deep }]);
    expect(results.map((e) => e?.sourceTimestamp?.us ?? null)).toEqual([...odd, null]);
    await client.close();
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const second = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const again = await connectEventer(await second.address());
    const stored = await again.query({ types: [['odd']], order: 'ascending' });
    expect(stored.map((e) => e.sourceTimestamp)).toEqual(odd.map((us) => ({ s: 0, us })));
    await again.close();
    await stillServes(second, await second.address());
  });
});
