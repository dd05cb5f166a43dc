// The embedded default (no --conf) from an empty folder, --print-default-conf, --help and
// command-line mistakes.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { connectEventer } from '../../src/eventer/client.ts';
import { defaultServerConf } from '../../src/config/default.ts';
import { cleanup, spawnCli, tempDir } from './helpers.ts';

afterEach(cleanup);

describe('hat-event-ts server without --conf', () => {
  it('runs LMDB at ./data/events.db (created) and the eventer on 127.0.0.1:23012', async () => {
    const dir = await tempDir();
    expect(await readdir(dir)).toEqual([]);
    const server = spawnCli(['server'], { cwd: dir });
    expect(await server.address()).toBe('tcp+sbs://127.0.0.1:23012');
    const dbPath = path.join(dir, 'data', 'events.db');
    expect(server.logs.find((l) => l.msg === 'data stored in')?.['db_path']).toBe(dbPath);
    expect(existsSync(dbPath)).toBe(true);

    const client = await connectEventer('tcp+sbs://127.0.0.1:23012');
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
