// A full disk under a real server process: the database folder is a 2 MiB tmpfs (mounted by the
// test, which needs root; without it the test says so and test/backends/lmdb/write-failures.test.ts
// drives the same path with an injected write error). The server must not die, must say that the
// store cannot write, must refuse registrations past max_pending_bytes instead of acknowledging
// them, must write everything it acknowledged once space returns, and a stop while the disk is
// full must say how many acknowledged events it could not write.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import type { Event, EventPayload, RegisterEvent } from '../../src/common/types.ts';
import { cleanup, lmdbConf, spawnCli, tempDir, writeConf, type CliProcess } from './helpers.ts';
import { breakDisk, c0, E, openBackend, until } from '../backends/lmdb/helpers.ts';

const mounted: string[] = [];
const clients: EventerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await cleanup(); // kills the servers
  for (const dir of mounted.splice(0)) {
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  }
});

/** Mounts a tmpfs of `size` at `dir`; the reason when it cannot. */
function mountTmpfs(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted.push(dir);
    return null;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err).trim();
  }
}

const resize = (dir: string, size: string): void => void execFileSync('mount', ['-o', `remount,size=${size}`, dir]);

const event = (i: number): RegisterEvent & { payload: EventPayload } => ({ type: ['fill', String(i % 10)], sourceTimestamp: null, payload: { type: 'json', data: 'x'.repeat(1000) } });

const key = (e: Event): string => `${e.id.session}/${e.id.instance}`;

/** The server's GET /healthz: status and body. */
async function healthz(server: CliProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const address = String((await server.waitForLog((l) => l.msg === 'metrics server listening'))['address']);
  const response = await fetch(`${address}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface FullDisk {
  dir: string;
  data: string;
  confFile: string;
  server: CliProcess;
  client: EventerClient;
  /** what the server acknowledged before it refused */
  acknowledged: Event[];
}

/**
 * A server on a 2 MiB tmpfs, registered to until it refused, having said that the store cannot
 * write. Null when no tmpfs can be mounted: it says so and drives the same path in-process instead.
 */
async function serverOnFullDisk(): Promise<FullDisk | null> {
  const dir = await tempDir();
  const data = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-tmpfs-'));
  const reason = mountTmpfs(data, '2m');
  if (reason !== null) {
    await rm(data, { recursive: true, force: true });
    console.log(`disk-full test: cannot mount a tmpfs (${reason}); driving the same path with an injected write error instead`);
    await injectedWriteError();
    return null;
  }
  const conf = lmdbConf({ flush_period: 0.1 });
  Object.assign(conf['backend'] as object, { db_path: path.join(data, 'events.db'), max_db_size: 64 * 1024 * 1024, max_pending_bytes: 1024 * 1024 });
  conf['metrics_server'] = { address: 'http://127.0.0.1:0' };
  const confFile = await writeConf(dir, conf);
  const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
  const client = await connectEventer(await server.address());
  clients.push(client);
  const acknowledged: Event[] = [];
  for (let i = 0; acknowledged.length === i; i += 10) {
    if (i > 100_000) throw new Error('never refused');
    const results = await client.registerWithResponse(Array.from({ length: 10 }, (_, j) => event(i + j)));
    acknowledged.push(...results.filter((e): e is Event => e !== null));
  }
  const failed = await server.waitForLog((l) => l.msg === 'the store cannot write: accepted events stay in memory and the write is retried');
  expect(failed['reason']).toMatch(/no space left on the device/);
  return { dir, data, confFile, server, client, acknowledged };
}

/** The fallback: the real backend, its writes failing as a full disk's, then healed. */
async function injectedWriteError(): Promise<void> {
  const conf = c0({ flush_period: 0.05, max_pending_bytes: 1024 * 1024 });
  const backend = await openBackend(conf);
  const disk = breakDisk(backend);
  const accepted: Event[] = [];
  for (let session = 1; accepted.length === 10 * (session - 1); session++) {
    const results = await backend.register(Array.from({ length: 10 }, (_, i) => E('fill', { session, payload: event(i).payload })));
    accepted.push(...results.filter((e): e is Event => e !== null));
  }
  expect(backend.flushStatus()).toMatchObject({ writable: false, reason: expect.stringMatching(/no space left/) });
  disk.heal();
  await until(() => backend.flushStatus().writable);
  await backend.close();
  const reopened = await openBackend(conf);
  const stored = new Set((await reopened.query({ types: [['fill']], maxResults: 1_000_000 })).map(key));
  expect(accepted.filter((e) => !stored.has(key(e)))).toEqual([]);
}

async function storedKeys(dir: string, confFile: string): Promise<Set<string>> {
  const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
  const client = await connectEventer(await server.address());
  clients.push(client);
  const stored = await client.query({ types: [['fill', '*']], order: 'ascending', maxResults: 10_000_000 });
  await client.close();
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
  return new Set(stored.map(key));
}

describe('a full disk under a real server', () => {
  it('keeps serving, refuses past the budget, and writes everything acknowledged once space returns', async () => {
    const setup = await serverOnFullDisk();
    if (setup === null) return;
    const { dir, data, confFile, server, client, acknowledged } = setup;
    const refusal = await server.waitForLog((l) => l.msg === 'events refused: the store cannot write');
    expect(refusal['reason']).toMatch(/^backpressure: max_pending_bytes/);
    expect(server.child.exitCode).toBeNull(); // alive
    expect(server.stderr()).not.toMatch(/unhandled|Reached heap limit/i);
    const full = await healthz(server);
    expect(full.status).toBe(503);
    expect(full.body).toMatchObject({ status: 'unhealthy', engine: 'running', writable: false });
    expect(full.body['reasons']).toContainEqual(expect.stringMatching(/^the store cannot write since \S+: .*no space left on the device/));

    resize(data, '64m'); // space returns
    await server.waitForLog((l) => l.msg === 'the store writes again: every pending event is written', 20_000);
    expect(await healthz(server)).toMatchObject({ status: 200, body: { status: 'ok', writable: true } });
    const [later] = await client.registerWithResponse([event(0)]);
    expect(later).not.toBeNull();
    await client.close();
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    const stored = await storedKeys(dir, confFile);
    expect(acknowledged.filter((e) => !stored.has(key(e)))).toEqual([]);
    expect(stored.has(key(later!))).toBe(true);
  }, 90_000);

  it('a stop while the disk is full says how many acknowledged events could not be written', async () => {
    const setup = await serverOnFullDisk();
    if (setup === null) return;
    const { dir, data, confFile, server, client, acknowledged } = setup;
    await client.close();
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    expect(code).toBe(1); // not a clean stop: acknowledged events are lost
    const closing = server.logs.find((l) => l.msg === 'closing the backend failed');
    const counted = /^(\d+) acknowledged events could not be written \(no space left on the device/.exec(String((closing?.['error'] as { message?: string })?.message ?? closing?.['error']));
    expect(counted, JSON.stringify(closing)).not.toBeNull();

    resize(data, '64m');
    const stored = await storedKeys(dir, confFile);
    const lost = acknowledged.filter((e) => !stored.has(key(e))).length;
    expect(lost).toBeGreaterThan(0);
    // the count also covers the server's own acknowledged events among the lost (the client's
    // DISCONNECTED, STOPPED): never fewer than the client's, at most those two more
    expect(Number(counted![1])).toBeGreaterThanOrEqual(lost);
    expect(Number(counted![1])).toBeLessThanOrEqual(lost + 2);
  }, 90_000);
});
