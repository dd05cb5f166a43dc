// prepareServerConf and loadConfigFile in process: defaults from the schemas, paths relative
// to the configuration, backends by name or path, and every problem reported at once.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

  it("accepts Hat's Python backend names and its Syncer keys, and warns about parts it does not run", async () => {
    const prepared = await prepareServerConf({
      type: 'event',
      log: { version: 1, root: { level: 'INFO' }, handlers: {}, formatters: {}, disable_existing_loggers: false },
      backend: { module: 'hat.event.server.backends.memory' },
      engine: { server_id: 1, modules: [] },
      eventer_server: { address: 'tcp+sbs://127.0.0.1:23012' },
      syncer_server: { address: 'tcp+sbs://127.0.0.1:23013' },
      syncer_token: 'secret',
      synced_restart_engine: false,
      monitor: { name: 'event1', group: 'event', monitor_address: 'tcp+sbs://127.0.0.1:23010' },
    });
    expect(prepared.backendName).toBe('memory');
    expect(prepared.warnings).toEqual(["'monitor' is not supported by this server yet and is ignored"]);
  });

  it('Syncer: the default address, peers checked entry by entry, keys of later Hat versions warned about', async () => {
    const base = { backend: { module: 'memory' }, engine: { server_id: 1 }, eventer_server: { address: 'tcp+sbs://127.0.0.1:0' } };
    const prepared = await prepareServerConf({
      ...base,
      syncer_server: { token: null, subscriptions: [['*']] },
      syncer_peers: [{ server_id: 2, address: 'tcp+sbs://127.0.0.1:24013' }],
    });
    expect(prepared.conf.syncer_server?.address).toBe('tcp+sbs://127.0.0.1:23013');
    expect(prepared.conf.syncer_peers).toEqual([{ server_id: 2, address: 'tcp+sbs://127.0.0.1:24013' }]);
    expect(prepared.warnings).toEqual([
      "'syncer_server.token' belongs to the Syncer of Hat 0.8.6 and later and is ignored",
      "'syncer_server.subscriptions' belongs to the Syncer of Hat 0.8.6 and later and is ignored",
    ]);
    expect(await problemsOf({
      ...base,
      syncer_server: { address: 'ssl+sbs://127.0.0.1:23013' },
      syncer_peers: [{ server_id: 2, address: 'tcp+sbs://a:1' }, { server_id: 2, address: 'http://b:1' }, { server_id: 'x', address: 'tcp+sbs://c:1', port: 1 }],
    })).toEqual([
      '/syncer_peers/2/port: unknown key (known keys: server_id, address)',
      '/syncer_peers/2/server_id: expected integer',
      '/syncer_server/pem_file: expected a PEM file for an ssl+sbs address',
      '/syncer_peers/1/server_id: server id 2 is listed twice',
      '/syncer_peers/1/address: invalid chatter address "http://b:1": scheme must be tcp+sbs or ssl+sbs',
    ]);
    expect(await problemsOf({ ...base, syncer_peers: [{ server_id: 3, address: 'tcp+sbs://c' }] })).toEqual([
      '/syncer_peers/0/address: invalid chatter address "tcp+sbs://c": missing port',
    ]);
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

  it('eventer_server limits and security keys: defaults filled in, mistakes named by key', async () => {
    const base = { backend: { module: 'memory' }, engine: { server_id: 1 } };
    const prepared = await prepareServerConf({ ...base, eventer_server: { address: 'tcp+sbs://127.0.0.1:0' } });
    expect(prepared.conf.eventer_server).toEqual({
      address: 'tcp+sbs://127.0.0.1:0', require_client_certificate: false, allow_reserved_types: false,
      max_connections: 1000, max_frame_size: 64 * 1024 * 1024, max_input_bytes: 256 * 1024 * 1024,
      max_output_bytes: 256 * 1024 * 1024, max_json_depth: 256,
    });
    const tls = await prepareServerConf(
      { ...base, eventer_server: { address: 'ssl+sbs://127.0.0.1:0', pem_file: 'server.pem', ca_file: 'ca.pem', require_client_certificate: true } },
      { baseDir: '/srv/events' },
    );
    expect(tls.conf.eventer_server).toMatchObject({ pem_file: '/srv/events/server.pem', ca_file: '/srv/events/ca.pem' });
    expect(await problemsOf({ ...base, eventer_server: {
      address: 'tcp+sbs://127.0.0.1:0', ca_file: 'ca.pem', max_connections: 0, max_frame_size: 2048, max_input_bytes: 1024,
      allowed_clients: ['10.', ''], max_json_depth: 'deep',
    } })).toEqual([
      '/eventer_server/allowed_clients/1: expected at least 1 character(s)',
      '/eventer_server/max_connections: expected a number >= 1',
      '/eventer_server/max_json_depth: expected integer',
      '/eventer_server/ca_file: expected only with an ssl+sbs address',
      '/eventer_server/max_frame_size: expected at most max_input_bytes (1024): a larger frame could never be received',
    ]);
    expect(await problemsOf({ ...base, eventer_server: { address: 'ssl+sbs://127.0.0.1:0', pem_file: 'p.pem', require_client_certificate: true } }))
      .toEqual(['/eventer_server/ca_file: expected the CA certificates client certificates must chain to (require_client_certificate is true)']);
    expect(await problemsOf({ ...base, eventer_server: { address: 'ssl+sbs://127.0.0.1:0', pem_file: 'p.pem', ca_file: 'ca.pem' } }))
      .toEqual(['/eventer_server/require_client_certificate: expected true with ca_file (the CA only checks client certificates)']);
  });
});

describe('unknown keys in the server configuration', () => {
  const lmdb = () => structuredClone(defaultServerConf().backend);
  const base = { engine: { server_id: 1 }, eventer_server: { address: 'tcp+sbs://127.0.0.1:0' } };
  const alarm = '../../examples/modules/threshold-alarm.ts';

  it('are refused everywhere, each named at its path with the key it most likely meant', async () => {
    const backend = lmdb();
    backend['max_db_sze'] = backend['max_db_size'];
    delete backend['max_db_size'];
    backend['conditions'] = [
      { subscriptions: [['*']], condition: { type: 'json', data_pth: ['a'] } },
      { subscriptions: [['*']], condition: { type: 'any', conditions: [], conditons: [] } },
    ];
    backend['latest'] = { subscriptions: [['*']], subscription: [] };
    backend['ordered'] = [{ order_by: 'TIMESTAMP', subscriptions: [['*']], limit: { max_entres: 5 } }];
    expect(await problemsOf({
      log: { version: 1, rooot: { level: 'INFO' }, root: { levle: 'DEBUG' }, loggers: { 'hat.event': { level: 'DEBUG', handler: [] } } },
      backend,
      engine: { server_id: 1, modules: [{ module: alarm, threshhold: 5, worker: 0 }] },
      eventer_server: { address: 'tcp+sbs://127.0.0.1:0', pemfile: 'x.pem' },
      eventer_sever: {},
    })).toEqual([
      '/eventer_sever: unknown key (did you mean eventer_server?)',
      '/log/rooot: unknown key (did you mean root?)',
      '/log/root/levle: unknown key (did you mean level?)',
      '/log/loggers/hat.event/handler: unknown key (did you mean handlers?)',
      '/eventer_server/pemfile: unknown key (did you mean pem_file?)',
      "/backend: missing required property 'max_db_size'",
      '/backend/max_db_sze: unknown key (did you mean max_db_size?)',
      '/backend/conditions/0/condition/data_pth: unknown key (did you mean data_path?)',
      '/backend/conditions/1/condition/conditons: unknown key (did you mean conditions?)',
      '/backend/latest/subscription: unknown key (did you mean subscriptions?)',
      '/backend/ordered/0/limit/max_entres: unknown key (did you mean max_entries?)',
      "/engine/modules/0: missing required property 'threshold'",
      '/engine/modules/0/threshhold: unknown key (did you mean threshold?)',
      '/engine/modules/0/worker: unknown key (did you mean workers?)',
    ]);
  });

  it('the memory and dummy backends take no keys of their own; a backend file without confSchema takes any', async () => {
    for (const module of ['memory', 'dummy', 'hat.event.server.backends.dummy']) {
      expect(await problemsOf({ ...base, backend: { module, db_path: './x.db' } })).toEqual(['/backend/db_path: unknown key (known keys: module)']);
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-conf-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'open-backend.mjs'), "export { createMemoryBackend as create } from '" +
      pathToFileURL(path.join(here, '..', '..', 'src', 'backends', 'memory.ts')).href + "';\n");
    await writeFile(path.join(dir, 'package.json'), '{"type": "module"}\n');
    const prepared = await prepareServerConf({ ...base, backend: { module: './open-backend.mjs', anything: 1 } }, { baseDir: dir });
    expect(prepared.conf.backend['anything']).toBe(1);
  });

  it("a module entry takes any keys when its module declares no confSchema", async () => {
    const prepared = await prepareServerConf({
      ...base, backend: { module: 'memory' }, engine: { server_id: 1, modules: [{ module: '../engine/fixtures/countdown.ts', workers: 0, whatever: [1] }] },
    }, { baseDir: here });
    expect(prepared.conf.engine.modules[0]).toMatchObject({ whatever: [1] });
  });

  it("Hat's log section, Python's dictConfig, stays valid: formatters, filters and handlers take their classes' keys", async () => {
    const log = {
      version: 1,
      formatters: { console_formatter: { format: '[%(asctime)s %(levelname)s %(name)s] %(message)s', datefmt: '%H:%M', style: '%' } },
      filters: { only_hat: { name: 'hat' }, custom: { '()': 'my.filters.Custom', threshold: 3 } },
      handlers: {
        console_handler: { class: 'logging.StreamHandler', formatter: 'console_formatter', level: 'DEBUG', stream: 'ext://sys.stdout' },
        file: { class: 'logging.handlers.RotatingFileHandler', filename: 'event.log', maxBytes: 1000000, backupCount: 3, filters: ['only_hat'] },
      },
      loggers: { 'hat.event': { level: 'DEBUG', handlers: ['file'], propagate: false, filters: ['custom'] } },
      root: { level: 'INFO', handlers: ['console_handler'], filters: [] },
      incremental: false,
      disable_existing_loggers: false,
    };
    const prepared = await prepareServerConf({ ...base, log, backend: { module: 'memory' } });
    expect(prepared.conf.log).toMatchObject(log);
  });
});

describe('metrics_server', () => {
  it('metrics_server: off when absent; max_flush_delay defaults to 30 s; a bad address, key or delay is named', async () => {
    const base = { backend: { module: 'memory' }, engine: { server_id: 1 }, eventer_server: { address: 'tcp+sbs://127.0.0.1:0' } };
    expect((await prepareServerConf(base)).conf.metrics_server).toBeUndefined();
    const on = await prepareServerConf({ ...base, metrics_server: { address: 'http://127.0.0.1:23080' } });
    expect(on.conf.metrics_server).toEqual({ address: 'http://127.0.0.1:23080', max_flush_delay: 30 });
    expect(on.warnings).toEqual([]);
    expect(await problemsOf({ ...base, metrics_server: { address: 'tcp+sbs://127.0.0.1:23080', port: 1, max_flush_delay: 0 } })).toEqual([
      '/metrics_server/port: unknown key (known keys: address, max_flush_delay)',
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
