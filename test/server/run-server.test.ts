// runServer in process: addresses, the stop order's outcome, failures, the database lock.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as net from 'node:net';
import { runServer, type RunningServer } from '../../src/server/run-server.ts';
import type { ServerConf } from '../../src/config/server-conf.ts';
import { defaultServerConf } from '../../src/config/default.ts';
import { DataLockedError, lockFileOf } from '../../src/backends/data-lock.ts';
import { StartupError } from '../../src/server/startup-checks.ts';
import { ModuleError } from '../../src/engine/errors.ts';
import { silentLogger } from '../../src/server/logger.ts';
import { connectEventer } from '../../src/eventer/client.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const servers: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(conf: ServerConf, baseDir?: string): Promise<RunningServer> {
  const server = await runServer(conf, { baseDir, logger: silentLogger() });
  servers.push(server);
  return server;
}

async function lmdbConf(): Promise<{ conf: ServerConf; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-run-'));
  dirs.push(dir);
  const conf = defaultServerConf();
  conf.eventer_server.address = 'tcp+sbs://127.0.0.1:0';
  return { conf, dir };
}

const memoryConf = (modules: ServerConf['engine']['modules'] = []): ServerConf => ({
  backend: { module: 'memory' },
  engine: { server_id: 1, modules },
  eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
});

describe('runServer', () => {
  it('serves on the bound address and stops cleanly', async () => {
    const server = await start(memoryConf());
    expect(server.addresses.eventer).toHaveLength(1);
    expect(server.dataPath).toBeNull();
    const client = await connectEventer(server.addresses.eventer[0]!);
    const [event] = await client.registerWithResponse([{ type: ['x'], sourceTimestamp: null, payload: null }]);
    expect(event?.id.server).toBe(1);
    await client.close();
    await server.close();
    await server.closed;
    expect(server.failure).toBeUndefined();
  });

  it('stops on its own, not clean, when a module fails', async () => {
    const server = await start(memoryConf([{ module: '../cli/fixtures/fails-on-boom.ts', workers: 0 }]), here);
    await expect(server.engine!.register({ type: 'eventer', id: 1 }, [{ type: ['boom'], sourceTimestamp: null, payload: null }])).rejects.toThrow();
    await server.closed;
    expect(server.failure).toBeInstanceOf(ModuleError);
    expect(server.failure?.message).toContain('fails-on-boom.ts');
  });

  it('reports a port in use as a StartupError before touching the data', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { conf, dir } = await lmdbConf();
      conf.eventer_server.address = `tcp+sbs://127.0.0.1:${(blocker.address() as net.AddressInfo).port}`;
      await expect(runServer(conf, { baseDir: dir, logger: silentLogger() })).rejects.toThrow(StartupError);
      expect(existsSync(path.join(dir, 'data'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('keeps a second server off the same database until the first has stopped', async () => {
    const { conf, dir } = await lmdbConf();
    const first = await start(conf, dir);
    expect(first.dataPath).toBe(path.join(dir, 'data', 'events.db'));
    await expect(runServer(conf, { baseDir: dir, logger: silentLogger() })).rejects.toThrow(DataLockedError);
    await first.close();
    expect(existsSync(lockFileOf(first.dataPath!))).toBe(false);
    const second = await start(conf, dir);
    await second.close();
    await second.closed;
    expect(second.failure).toBeUndefined();
  });

  it('takes over the lock of a server that died without releasing it', async () => {
    const { conf, dir } = await lmdbConf();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const dbPath = path.join(dir, 'data', 'events.db');
    await start({ ...conf, backend: { ...conf.backend, db_path: dbPath } }, dir).then((s) => s.close());
    await writeFile(lockFileOf(dbPath), `${dead}\n`);
    const server = await start(conf, dir);
    expect(server.dataPath).toBe(dbPath);
  });
});
