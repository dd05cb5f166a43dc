// The CLI as a real process: clients register, query and subscribe; SIGTERM stops cleanly and
// the STOPPED event is there after a restart; the example configuration and module run.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { compareEventIds } from '../../src/common/event-id.ts';
import type { Event, RegisterEvent } from '../../src/common/types.ts';
import { cleanup, fixture, lmdbConf, ROOT, spawnCli, tempDir, writeConf } from './helpers.ts';

const clients: EventerClient[] = [];
async function connect(address: string, subscriptions?: string[][]): Promise<EventerClient> {
  const client = await connectEventer(address, { subscriptions });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await cleanup();
});

const json = (type: string[], data: unknown): RegisterEvent => ({
  type, sourceTimestamp: null, payload: { type: 'json', data: data as never },
});

const engineEvents = (client: EventerClient): Promise<Event[]> =>
  client.query({ types: [['event', 'engine']], order: 'ascending', maxResults: 100 });

const payloadOf = (e: Event): unknown => (e.payload?.type === 'json' ? e.payload.data : e.payload);

describe('hat-event-ts server (child process)', () => {
  it('serves register, query and subscribe; SIGTERM exits 0; STOPPED is stored and seen after a restart', async () => {
    const dir = await tempDir();
    const confFile = await writeConf(dir, lmdbConf());
    const first = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const address = await first.address();
    expect(address).toMatch(/^tcp\+sbs:\/\/127\.0\.0\.1:\d+$/);
    expect(first.logs.some((l) => l.msg === 'data stored in' && l['db_path'] === path.join(dir, 'data', 'events.db'))).toBe(true);

    const watcher = await connect(address, [['test', '*']]);
    const writer = await connect(address);
    const [registered] = await writer.registerWithResponse([json(['test', 'a'], 1)]);
    expect(registered).toMatchObject({ id: { server: 1 }, type: ['test', 'a'] });
    const notified = await watcher.receive();
    expect(notified.map((e) => e.id)).toEqual([registered!.id]);
    const queried = await writer.query({ types: [['test', '*']] });
    expect(queried.map((e) => e.id)).toEqual([registered!.id]);
    const before = await engineEvents(writer);
    expect(before.map(payloadOf)).toEqual(['STARTED']);

    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.logs.find((l) => l.msg === 'stopped')).toMatchObject({ clean: true });

    const second = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const client = await connect(await second.address());
    const after = await engineEvents(client);
    expect(after.map(payloadOf)).toEqual(['STARTED', 'STOPPED', 'STARTED']);
    const [started1, stopped, started2] = after as [Event, Event, Event];
    // Hat 0.8: STOPPED takes the last session's number; the next run continues above it
    expect(compareEventIds(stopped.id, started1.id)).toBeGreaterThan(0);
    expect(stopped.id.session).toBeGreaterThanOrEqual(registered!.id.session);
    expect(compareEventIds(started2.id, stopped.id)).toBeGreaterThan(0);
    expect(started2.id.session).toBe(stopped.id.session + 1);
    const kept = await client.query({ types: [['test', '*']] });
    expect(kept.map((e) => [e.id, payloadOf(e)])).toEqual([[registered!.id, 1]]);
  });

  it('runs the example configuration with the example TypeScript module, paths relative to the file', async () => {
    const dir = await tempDir();
    const conf = parse(await readFile(path.join(ROOT, 'examples', 'server.yaml'), 'utf8')) as Record<string, any>;
    conf['eventer_server'].address = 'tcp+sbs://127.0.0.1:0';
    conf['log'].format = 'json';
    await mkdir(path.join(dir, 'modules'));
    await copyFile(path.join(ROOT, 'examples', 'modules', 'threshold-alarm.ts'), path.join(dir, 'modules', 'threshold-alarm.ts'));
    // a user's module folder is an ES module package, as this repository is
    await writeFile(path.join(dir, 'package.json'), '{"type": "module"}\n');
    const confFile = await writeConf(dir, conf);
    const cwd = await tempDir(); // not the config's folder: relative paths must follow the file
    const server = spawnCli(['server', '--conf', confFile], { cwd });
    const client = await connect(await server.address(), [['alarm', '*']]);

    await client.registerWithResponse([json(['measurement', 'room1', 'temperature'], 50)]);
    await client.registerWithResponse([json(['measurement', 'room1', 'temperature'], 85)]);
    const [alarm] = await client.receive();
    expect(alarm!.type).toEqual(['alarm', 'room1', 'temperature']);
    expect(payloadOf(alarm!)).toEqual({ value: 85, threshold: 80 });
    const alarms = await client.query({ types: [['alarm', '*']], orderBy: 'timestamp' });
    expect(alarms.map(payloadOf)).toEqual([{ value: 85, threshold: 80 }]);
    expect(server.logs.find((l) => l.msg === 'data stored in')?.['db_path']).toBe(path.join(dir, 'data', 'event.db'));

    server.child.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
  });

  for (const workers of [0, 1]) {
    it(`stops with status 1 when a module fails, logging the module, the error and where in the module (workers: ${workers})`, async () => {
      const dir = await tempDir();
      const confFile = await writeConf(dir, lmdbConf({ modules: [{ module: fixture('fails-on-boom.ts'), workers }] }));
      const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
      const client = await connect(await server.address());
      await expect(client.registerWithResponse([json(['boom'], null)])).rejects.toThrow();
      expect((await server.exited).code).toBe(1);
      const failure = server.logs.find((l) => l.msg === 'stopping after a failure');
      expect(failure?.level).toBe('error');
      expect(JSON.stringify(failure?.['error'])).toContain('fails-on-boom.ts');
      expect(JSON.stringify(failure?.['error'])).toContain('refusing boom');
      // the module's own error, with the file and line of its throw (line 9 of the TypeScript source)
      const cause = (failure?.['error'] as { cause?: { message: string; stack: string } }).cause;
      expect(cause?.message).toBe('refusing boom');
      expect(cause?.stack.split('\n')[1]).toMatch(new RegExp(`${fixture('fails-on-boom.ts').replace(/[.]/g, '\\.')}:9:\\d+`));
      expect(server.logs.find((l) => l.msg === 'stopped')).toMatchObject({ clean: false });
    });
  }

  it("Node's warnings, in the configuration check and in a module's thread, are log lines like the rest", async () => {
    const dir = await tempDir();
    const confFile = await writeConf(dir, lmdbConf({ modules: [{ module: fixture('warns.ts'), workers: 1 }] }));
    const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
    await server.address();
    const fromThread = await server.waitForLog((l) => l.msg === 'node warning' && l.logger === 'hat.event.engine');
    expect(fromThread).toMatchObject({ level: 'warning', module: `module 0 (${fixture('warns.ts')})`, code: 'HAT_TEST_WARNING', text: 'imported a module that warns' });
    expect(server.logs.find((l) => l.msg === 'node warning' && l.logger === 'hat.event.process'))
      .toMatchObject({ level: 'warning', warning: 'Warning', code: 'HAT_TEST_WARNING', text: 'imported a module that warns' });
    server.child.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
    // every line of stderr is a JSON log line: no '(node:...) Warning: ...' from Node itself
    const lines = server.stderr().trim().split('\n');
    expect(lines.filter((line) => !line.startsWith('{'))).toEqual([]);
    expect(server.logs).toHaveLength(lines.length);
  });

  it('serves /metrics and /healthz when metrics_server is configured (its line before the eventer line, the last of a start)', async () => {
    const dir = await tempDir();
    const confFile = await writeConf(dir, { ...lmdbConf(), metrics_server: { address: 'http://127.0.0.1:0' } });
    const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const client = await connect(await server.address());
    const listening = server.logs.filter((l) => l.msg.endsWith('listening')).map((l) => l.msg);
    expect(listening).toEqual(['metrics server listening', 'eventer server listening']);
    const metrics = server.logs.find((l) => l.msg === 'metrics server listening')!['address'] as string;
    await client.registerWithResponse([json(['a'], 1), json(['b'], 2)]);
    const text = await (await fetch(`${metrics}/metrics`)).text();
    // CONNECTED and the two events; STARTED is the engine's
    expect(text).toContain('\nhat_event_events_total{source_type="eventer"} 3\n');
    expect(text).toContain('\nhat_event_events_total{source_type="engine"} 1\n');
    expect(text).toMatch(/\nprocess_resident_memory_bytes \d+\n/);
    const health = await fetch(`${metrics}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', engine: 'running' });
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('a signal during the start stops the server cleanly once it has started (exit 0, not killed)', async () => {
    const dir = await tempDir();
    const confFile = await writeConf(dir, lmdbConf({ modules: [{ module: fixture('slow-create.ts'), workers: 0 }] }));
    const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
    await server.waitForLog((l) => l.msg === 'creating');
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const order = server.logs.map((l) => l.msg).filter((m) => ['signal received during the start, stopping once started', 'eventer server listening', 'stopping', 'stopped'].includes(m));
    expect(order).toEqual(['signal received during the start, stopping once started', 'eventer server listening', 'stopping', 'stopped']);
    expect(server.logs.find((l) => l.msg === 'stopped')).toMatchObject({ clean: true });
    // the stop was a real one: STOPPED is in the file, and a restart finds it
    const again = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const client = await connect(await again.address());
    expect((await engineEvents(client)).map(payloadOf)).toEqual(['STARTED', 'STOPPED', 'STARTED']);
  });

  it('a second signal forces the exit (status 1) when the stop cannot finish', async () => {
    const dir = await tempDir();
    const confFile = await writeConf(dir, lmdbConf({ modules: [{ module: fixture('hangs-on-hang.ts'), workers: 0 }] }));
    const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const client = await connect(await server.address());
    void client.register([json(['hang'], null)]);
    await server.waitForLog((l) => l.msg === 'hanging');
    server.child.kill('SIGTERM');
    await server.waitForLog((l) => l.msg === 'stopping');
    // Long enough for the stop to close everything it can: the process must still be there, waiting.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(server.child.exitCode).toBe(null);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 1, signal: null });
    expect(server.logs.some((l) => l.msg === 'second signal, exiting without a clean stop')).toBe(true);
  });
});
