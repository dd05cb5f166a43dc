// Failures found at startup: a clear one-line error, exit status 1, no partial state.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import path from 'node:path';
import { connectEventer } from '../../src/eventer/client.ts';
import { cleanup, lmdbConf, spawnCli, tempDir, writeConf } from './helpers.ts';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await cleanup();
});

async function occupiedPort(): Promise<number> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function errorLine(run: ReturnType<typeof spawnCli>): Promise<string> {
  expect((await run.exited).code).toBe(1);
  const lines = run.stderr().trim().split('\n').filter((l) => !l.startsWith('{'));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('startup errors (exit status 1)', () => {
  it('the port is already in use: nothing is created', async () => {
    const port = await occupiedPort();
    const dir = await tempDir();
    const conf = lmdbConf();
    conf['eventer_server'] = { address: `tcp+sbs://127.0.0.1:${port}` };
    const file = await writeConf(dir, conf);
    const line = await errorLine(spawnCli(['server', '--conf', file], { cwd: dir }));
    expect(line).toBe(`hat-event-ts: error: cannot listen on tcp+sbs://127.0.0.1:${port}: the port is already in use`);
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it("the metrics server's port is already in use: nothing is created", async () => {
    const port = await occupiedPort();
    const dir = await tempDir();
    const conf = lmdbConf();
    conf['metrics_server'] = { address: `http://127.0.0.1:${port}` };
    const file = await writeConf(dir, conf);
    const line = await errorLine(spawnCli(['server', '--conf', file], { cwd: dir }));
    expect(line).toBe(`hat-event-ts: error: cannot listen on http://127.0.0.1:${port}: the port is already in use`);
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('the data path cannot be created', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'blocker'), 'a file where a folder should be');
    const conf = lmdbConf();
    (conf['backend'] as Record<string, unknown>)['db_path'] = './blocker/events.db';
    const file = await writeConf(dir, conf);
    const line = await errorLine(spawnCli(['server', '--conf', file], { cwd: dir }));
    expect(line).toBe(`hat-event-ts: error: cannot create the data folder ${path.join(dir, 'blocker')} for ${path.join(dir, 'blocker', 'events.db')}: EEXIST`);
  });

  it('the database is used by another server: the second exits, the first keeps serving', async () => {
    const dir = await tempDir();
    const file = await writeConf(dir, lmdbConf());
    const first = spawnCli(['server', '--conf', file], { cwd: dir });
    const client = await connectEventer(await first.address());
    const register = (type: string[]) => client.registerWithResponse([{ type, sourceTimestamp: null, payload: null }]);
    await register(['before']); // the first server's files are all there once a session is stored
    const files = async (): Promise<string[]> =>
      (await readdir(path.join(dir, 'data'))).filter((f) => !f.endsWith('.tmp')).sort();
    const before = await files();

    const second = spawnCli(['server', '--conf', file], { cwd: dir });
    const line = await errorLine(second);
    expect(line).toBe(`hat-event-ts: error: database ${path.join(dir, 'data', 'events.db')} is locked: another server (pid ${first.child.pid}) is using it`);
    expect(await files()).toEqual(before);
    expect(await readFile(path.join(dir, 'data', 'events.db-server.pid'), 'utf8')).toBe(`${first.child.pid}\n`);

    try {
      const [event] = await register(['still', 'serving']);
      expect(event?.type).toEqual(['still', 'serving']);
    } finally {
      await client.close();
    }
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });
});
