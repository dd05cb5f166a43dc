// Stuck modules with real server processes (a module that spins forever): the warning names the
// module, the session and how long; process_timeout terminates its thread; SIGTERM ends in bounded
// time; STOPPED is stored and every acknowledged event kept (read back by a second server). On the
// main thread (workers: 0) nothing can interrupt it, but the watchdog thread still warns.
import { afterEach, describe, expect, it } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import type { Event, RegisterEvent } from '../../src/common/types.ts';
import { cleanup, fixture, lmdbConf, spawnCli, tempDir, writeConf, type LogLine } from './helpers.ts';

const clients: EventerClient[] = [];
async function connect(address: string): Promise<EventerClient> {
  const client = await connectEventer(address);
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await cleanup();
});

const json = (type: string[], data: unknown): RegisterEvent => ({ type, sourceTimestamp: null, payload: { type: 'json', data: data as never } });
const payloadOf = (e: Event): unknown => (e.payload?.type === 'json' ? e.payload.data : e.payload);
const STUCK = 'module still processing a session';
const isStuck = (l: LogLine) => l.msg === STUCK;

/** A server with the looping module; acknowledged events registered, then the loop started. */
async function startLooping(module: Record<string, unknown>) {
  const dir = await tempDir();
  const conf = lmdbConf({ flush_period: 0.2, modules: [{ module: fixture('loops-on-loop.ts'), ...module }] });
  const confFile = await writeConf(dir, conf);
  const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
  const client = await connect(await server.address());
  const acknowledged = await client.registerWithResponse([json(['before'], 1), json(['before'], 2)]);
  expect(acknowledged.every((e) => e !== null)).toBe(true);
  void client.registerWithResponse([json(['loop'], null)]).catch(() => undefined);
  await server.waitForLog((l) => l.msg === 'looping');
  return { dir, confFile, server, client, loopSession: acknowledged[0]!.id.session + 1 };
}

/** What a second server finds in the database: the ['before'] events and the engine's events. */
async function storedAfterwards(confFile: string, dir: string): Promise<{ before: unknown[]; engine: unknown[] }> {
  const second = spawnCli(['server', '--conf', confFile], { cwd: dir });
  const client = await connect(await second.address());
  const before = await client.query({ types: [['before']], order: 'ascending', maxResults: 100 });
  const engine = await client.query({ types: [['event', 'engine']], order: 'ascending', maxResults: 100 });
  return { before: before.map(payloadOf), engine: engine.map(payloadOf) };
}

function expectWarning(line: LogLine, session: number, atLeast: number): void {
  expect(line).toMatchObject({ level: 'warning', logger: 'hat.event.engine', session });
  expect(line['module']).toMatch(/^module 0 \(.*loops-on-loop\.ts\)$/);
  expect(line['seconds'] as number).toBeGreaterThanOrEqual(atLeast);
}

describe('stuck modules (server processes)', () => {
  it('a module looping in its thread is reported again and again; past process_timeout its thread is terminated, STOPPED stored', async () => {
    const { dir, confFile, server, loopSession } = await startLooping({ workers: 1, process_warning: 0.5, process_timeout: 2.5 });
    await server.waitForLog(() => server.logs.filter(isStuck).length >= 2);
    const warnings = server.logs.filter(isStuck);
    expectWarning(warnings[0]!, loopSession, 0.5);
    expectWarning(warnings[1]!, loopSession, 1);
    expect(await server.exited).toEqual({ code: 1, signal: null });
    const failure = server.logs.find((l) => l.msg === 'stopping after a failure');
    expect((failure?.['error'] as { message: string }).message).toMatch(
      new RegExp(`module 0 \\(.*loops-on-loop\\.ts\\): process_timeout: still processing session ${loopSession} after 2\\.\\d s; its thread was terminated`),
    );
    const stored = await storedAfterwards(confFile, dir);
    expect(stored.before).toEqual([1, 2]);
    expect(stored.engine).toEqual(['STARTED', 'STOPPED', 'STARTED']);
  });

  it('SIGTERM with a module looping in its thread (no process_timeout) ends in bounded time: STOPPED stored, acknowledged events kept', async () => {
    const { dir, confFile, server, loopSession } = await startLooping({ workers: 1, process_warning: 1 });
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 1, signal: null }); // not a clean stop: a module was cut off
    expect(Date.now() - signalled).toBeLessThan(8000);
    const failed = server.logs.find((l) => l.msg === 'closing the engine failed');
    expect((failed?.['error'] as { message: string }).message).toMatch(
      new RegExp(`module 0 \\(.*loops-on-loop\\.ts\\): still processing session ${loopSession} after \\d+\\.\\d s when the engine stopped \\(process_warning: 1 s\\); its thread was terminated`),
    );
    expect(server.logs.find((l) => l.msg === 'stopped')).toMatchObject({ clean: false });
    const stored = await storedAfterwards(confFile, dir);
    expect(stored.before).toEqual([1, 2]);
    expect(stored.engine).toEqual(['STARTED', 'STOPPED', 'STARTED']);
  });

  it('a module looping on the main thread (workers: 0): the watchdog thread warns while the main thread is blocked', async () => {
    const { server, client, loopSession } = await startLooping({ workers: 0, process_warning: 0.5 });
    const answered = client.query({ types: [['before']], maxResults: 1 }).then(() => true, () => true);
    await server.waitForLog(() => server.logs.filter(isStuck).length >= 3);
    const warnings = server.logs.filter(isStuck);
    expectWarning(warnings[0]!, loopSession, 0.5);
    expectWarning(warnings[2]!, loopSession, 1.5);
    // The main thread really is blocked: the query has no answer, and only SIGKILL ends the process.
    expect(await Promise.race([answered, new Promise((resolve) => setTimeout(() => resolve(false), 200))])).toBe(false);
    server.child.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
