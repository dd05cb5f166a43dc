// The embedded default (no --conf), --print-default-conf, --help and command-line mistakes.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as net from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';
import { connectEventer } from '../../src/eventer/client.ts';
import type { ServerConf } from '../../src/config/server-conf.ts';
import { defaultServerConf } from '../../src/config/default.ts';
import { cleanup, spawnCli, tempDir, writeConf } from './helpers.ts';

afterEach(cleanup);

/** Holds host:port until released: ours if it is free, else it is someone else's and held anyway. */
async function holdPort(host: string, port: number): Promise<{ release(): Promise<void> }> {
  const server = net.createServer();
  const ours = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    server.listen({ host, port, exclusive: true }, () => resolve(true));
  });
  return { release: () => (ours ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve()) };
}

// The embedded default listens on 127.0.0.1:23012, which a developer's own server may hold: the
// tests prove the address with the port held (never racing for it), and the rest of the default
// by running the printed configuration with only the port changed.
describe('hat-event-ts server without --conf', () => {
  it('listens on 127.0.0.1:23012: with the port held it says so and exits 1 before creating ./data', async () => {
    const held = await holdPort('127.0.0.1', 23012);
    try {
      const dir = await tempDir();
      const server = spawnCli(['server'], { cwd: dir });
      expect((await server.exited).code).toBe(1);
      expect(server.stderr()).toContain('cannot listen on tcp+sbs://127.0.0.1:23012: the port is already in use');
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await held.release();
    }
  });

  it('the rest of the default: LMDB at ./data/events.db (created), one TIMESTAMP partition on *', async () => {
    const dir = await tempDir();
    const printed = spawnCli(['server', '--print-default-conf'], { cwd: dir });
    expect((await printed.exited).code).toBe(0);
    const conf = parse(printed.stdout()) as ServerConf;
    expect(conf.eventer_server.address).toBe('tcp+sbs://127.0.0.1:23012');
    conf.eventer_server.address = 'tcp+sbs://127.0.0.1:0';
    await writeConf(dir, conf);
    const server = spawnCli(['server', '--conf', 'server.yaml'], { cwd: dir });
    const address = await server.address();
    const dbPath = path.join(dir, 'data', 'events.db');
    expect(server.logs.find((l) => l.msg === 'data stored in')?.['db_path']).toBe(dbPath);
    expect(existsSync(dbPath)).toBe(true);

    const client = await connectEventer(address);
    try {
      const [event] = await client.registerWithResponse([{ type: ['a'], sourceTimestamp: null, payload: null }]);
      // the default has one TIMESTAMP partition on '*': ordinary queries are answered from it
      const found = await client.query({ types: [['*']], order: 'ascending' });
      expect(found.map((e) => e.type)).toEqual([['event', 'engine'], ['event', 'eventer'], ['a']]);
      expect(found[2]!.id).toEqual(event!.id);
    } finally {
      await client.close();
    }
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('--print-default-conf prints that configuration as YAML', async () => {
    const dir = await tempDir();
    const run = spawnCli(['server', '--print-default-conf'], { cwd: dir });
    expect((await run.exited).code).toBe(0);
    expect(parse(run.stdout())).toEqual(defaultServerConf());
    expect(await readdir(dir)).toEqual([]);
  });

  it('--help documents every option; mistakes exit 2', async () => {
    const dir = await tempDir();
    const help = spawnCli(['server', '--help'], { cwd: dir });
    expect((await help.exited).code).toBe(0);
    for (const option of ['--conf', '--print-default-conf', '--help', 'Exit status']) expect(help.stdout()).toContain(option);
    const unknown = spawnCli(['server', '--confx', 'a.yaml'], { cwd: dir });
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr()).toMatch(/^hat-event-ts: Unknown option '--confx'/);
    const noCommand = spawnCli([], { cwd: dir });
    expect((await noCommand.exited).code).toBe(2);
    expect(noCommand.stdout()).toContain('Usage: hat-event-ts <command>');
  });
});
