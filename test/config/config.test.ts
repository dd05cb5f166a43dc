// prepareServerConf and loadConfigFile in process: defaults from the schemas, paths relative
// to the configuration, backends by name or path, and every problem reported at once.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareServerConf } from '../../src/config/prepare.ts';
import { loadConfigFile } from '../../src/config/file.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { defaultServerConf } from '../../src/config/default.ts';
import { BUILT_IN_BACKENDS } from '../../src/backends/backend-modules.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function problemsOf(raw: unknown, baseDir = here): Promise<string[]> {
  const error = await prepareServerConf(raw, { baseDir, source: 'conf.yaml' }).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  expect((error as ConfigError).message.split('\n')).toHaveLength(problems.length);
  return problems.map((p) => `${p.path || '/'}: ${p.message}`);
}

describe('prepareServerConf', () => {
  it('fills defaults from the schema and resolves db_path against baseDir', async () => {
    const prepared = await prepareServerConf(
      { backend: { ...defaultServerConf().backend }, engine: { server_id: 3 }, eventer_server: { address: 'tcp+sbs://127.0.0.1:0' } },
      { baseDir: '/srv/events' },
    );
    expect(prepared.conf.type).toBe('event');
    expect(prepared.conf.engine.modules).toEqual([]);
    expect(prepared.conf.synced_restart_engine).toBe(false);
    expect(prepared.conf.backend['db_path']).toBe('/srv/events/data/events.db');
    expect(prepared.backendName).toBe('lmdb');
    expect(prepared.backend).toBe(BUILT_IN_BACKENDS['lmdb']);
    expect(prepared.warnings).toEqual([]);
  });

  it("accepts Hat's Python backend names and warns about parts it does not run", async () => {
    const prepared = await prepareServerConf({
      type: 'event',
      log: { version: 1, root: { level: 'INFO' }, handlers: {}, formatters: {}, disable_existing_loggers: false },
      backend: { module: 'hat.event.server.backends.memory' },
      engine: { server_id: 1, modules: [] },
      eventer_server: { address: 'tcp+sbs://127.0.0.1:23012' },
      syncer_server: { address: 'tcp+sbs://127.0.0.1:23013' },
      synced_restart_engine: false,
    });
    expect(prepared.backendName).toBe('memory');
    expect(prepared.warnings).toEqual(["'syncer_server' is not supported by this server yet and is ignored"]);
  });

  it('loads a backend by path relative to baseDir, validating and defaulting with its confSchema', async () => {
    const conf = { backend: { module: './fixtures/named-memory-backend.ts', label: 'x' }, engine: { server_id: 1 }, eventer_server: { address: 'tcp+sbs://127.0.0.1:0' } };
    const prepared = await prepareServerConf(conf, { baseDir: here });
    expect(prepared.backendName).toBeUndefined();
    expect(prepared.conf.backend).toEqual({ module: './fixtures/named-memory-backend.ts', label: 'x', retries: 3 });
    expect(conf.backend).not.toHaveProperty('retries'); // the caller's object is left alone
    expect(await problemsOf({ ...conf, backend: { module: './fixtures/named-memory-backend.ts', retries: 1.5 } })).toEqual([
      "/backend: missing required property 'label'",
      '/backend/retries: expected integer',
    ]);
  });

  it('fills module defaults from the module confSchema', async () => {
    const prepared = await prepareServerConf({
      backend: { module: 'memory' },
      engine: { server_id: 1, modules: [{ module: '../../examples/modules/threshold-alarm.ts', threshold: 5 }] },
      eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    }, { baseDir: here });
    expect(prepared.conf.engine.modules[0]).toEqual({
      module: '../../examples/modules/threshold-alarm.ts', threshold: 5, workers: 1, measurements: ['measurement'], alarms: ['alarm'],
    });
  });

  it('reports missing sections, wrong types and an ssl address without a PEM file', async () => {
    expect(await problemsOf({})).toEqual([
      "/: missing required property 'backend'",
      "/: missing required property 'engine'",
      "/: missing required property 'eventer_server'",
    ]);
    expect(await problemsOf([])).toEqual(['/: expected object']);
    expect(await problemsOf({
      type: 'gateway', log: { root: { level: 'LOUD' } },
      backend: { module: 'memory' }, engine: { server_id: -1, modules: {} },
      eventer_server: { address: 'ssl+sbs://127.0.0.1:1' },
    })).toEqual([
      '/type: expected "event"',
      expect.stringMatching(/^\/log\/root\/level: expected one of "DEBUG", "INFO"/),
      '/engine/server_id: expected a number >= 0',
      '/engine/modules: expected array',
      '/eventer_server/pem_file: expected a PEM file for an ssl+sbs address',
    ]);
  });

  it('metrics_server: off when absent; max_flush_delay defaults to 30 s; a bad address, key or delay is named', async () => {
    const base = { backend: { module: 'memory' }, engine: { server_id: 1 }, eventer_server: { address: 'tcp+sbs://127.0.0.1:0' } };
    expect((await prepareServerConf(base)).conf.metrics_server).toBeUndefined();
    const on = await prepareServerConf({ ...base, metrics_server: { address: 'http://127.0.0.1:23080' } });
    expect(on.conf.metrics_server).toEqual({ address: 'http://127.0.0.1:23080', max_flush_delay: 30 });
    expect(on.warnings).toEqual([]);
    expect(await problemsOf({ ...base, metrics_server: { address: 'tcp+sbs://127.0.0.1:23080', port: 1, max_flush_delay: 0 } })).toEqual([
      "/metrics_server: unknown property 'port'",
      '/metrics_server/max_flush_delay: expected a number > 0',
      '/metrics_server/address: invalid metrics address "tcp+sbs://127.0.0.1:23080": expected http://host:port',
    ]);
    expect(await problemsOf({ ...base, metrics_server: {} })).toEqual(["/metrics_server: missing required property 'address'"]);
  });
});

describe('loadConfigFile', () => {
  it('reads YAML and JSON by extension; baseDir is the file folder', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-conf-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'a.yml'), 'engine:\n  server_id: 7\n');
    await writeFile(path.join(dir, 'b.json'), '{"engine": {"server_id": 8}}');
    expect(await loadConfigFile(path.join(dir, 'a.yml'))).toEqual({ conf: { engine: { server_id: 7 } }, file: path.join(dir, 'a.yml'), baseDir: dir });
    expect((await loadConfigFile(path.join(dir, 'b.json'))).conf).toEqual({ engine: { server_id: 8 } });
  });
});
