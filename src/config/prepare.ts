// Checks a whole server configuration before anything is opened: the server schema, the
// eventer address, the backend (loaded, its confSchema) and every module (loaded, its
// confSchema, its placement). Every problem is reported, not just the first.
import path from 'node:path';
import type { BackendModule } from '../backends/backend.ts';
import { parseAddress } from '../chatter/address.ts';
import { parseHttpAddress } from '../metrics/http-server.ts';
import type { ModuleConf } from '../engine/types.ts';
import { loadModule, prepareModule, type PreparedModule } from '../engine/modules.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import type { ServerConf } from './server-conf.ts';
import { builtInBackendName, loadBackendModule } from '../backends/backend-modules.ts';
import { validateWithSchema } from '../common/schema.ts';
import serverSchema from './server.schema.json' with { type: 'json' };
import { describeError } from '../common/describe-error.ts';

export interface PreparedConf {
  /** the configuration with defaults filled in and paths made absolute */
  conf: ServerConf;
  backend: BackendModule;
  /** the engine's modules, loaded and checked: the engine takes them as they are */
  modules: PreparedModule[];
  /** 'lmdb' etc. for a built-in backend */
  backendName: string | undefined;
  baseDir: string;
  /** things that are accepted but not acted on (e.g. syncer_server) */
  warnings: string[];
}

export interface PrepareOptions {
  /** relative paths resolve against this folder (the configuration file's); default cwd */
  baseDir?: string;
  /** names the configuration in messages; default '(configuration)' */
  source?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function prepareServerConf(raw: unknown, opts: PrepareOptions = {}): Promise<PreparedConf> {
  const baseDir = path.resolve(opts.baseDir ?? process.cwd());
  const source = opts.source ?? '(configuration)';
  const conf = structuredClone(raw) as ServerConf;
  const problems: ConfigProblem[] = validateWithSchema(serverSchema, conf);
  if (!isObject(conf)) throw new ConfigError(problems, source);

  const address = conf.eventer_server?.address;
  if (typeof address === 'string') {
    try {
      const parsed = parseAddress(address);
      if (parsed.protocol === 'ssl' && conf.eventer_server.pem_file === undefined)
        problems.push({ path: '/eventer_server/pem_file', message: 'expected a PEM file for an ssl+sbs address' });
    } catch (err) {
      problems.push({ path: '/eventer_server/address', message: `expected tcp+sbs://host:port or ssl+sbs://host:port (${describeError(err)})` });
    }
  }
  const metricsAddress = conf.metrics_server?.address;
  if (typeof metricsAddress === 'string') {
    try {
      parseHttpAddress(metricsAddress);
    } catch (err) {
      problems.push({ path: '/metrics_server/address', message: describeError(err) });
    }
  }
  if (typeof conf.eventer_server?.pem_file === 'string') conf.eventer_server.pem_file = path.resolve(baseDir, conf.eventer_server.pem_file);

  const backend = await checkBackend(conf, baseDir, problems);
  const modules = await checkModules(conf, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);

  const warnings: string[] = [];
  for (const key of ['syncer_server', 'monitor', 'mariner_server'] as const) {
    if (conf[key] !== undefined) warnings.push(`'${key}' is not supported by this server yet and is ignored`);
  }
  return { conf, backend: backend!, modules, backendName: builtInBackendName(conf.backend.module), baseDir, warnings };
}

async function checkBackend(conf: ServerConf, baseDir: string, problems: ConfigProblem[]): Promise<BackendModule | undefined> {
  if (!isObject(conf.backend) || typeof conf.backend.module !== 'string' || conf.backend.module === '') return undefined;
  let backend: BackendModule;
  try {
    backend = await loadBackendModule(conf.backend.module, baseDir);
  } catch (err) {
    problems.push({
      path: '/backend/module',
      message: `expected 'lmdb', 'memory', 'dummy' or a loadable backend module; ${JSON.stringify(conf.backend.module)} failed: ${describeError(err)}`,
    });
    return undefined;
  }
  if (backend.confSchema) problems.push(...validateWithSchema(backend.confSchema, conf.backend, '/backend'));
  const key = backend.dataPathKey;
  if (key !== undefined && typeof conf.backend[key] === 'string') conf.backend[key] = path.resolve(baseDir, conf.backend[key]);
  return backend;
}

/** Loads and checks every module entry (in place: the schema's defaults are filled in). */
async function checkModules(conf: ServerConf, baseDir: string, problems: ConfigProblem[]): Promise<PreparedModule[]> {
  const entries = conf.engine?.modules;
  if (!Array.isArray(entries)) return [];
  const prepared: PreparedModule[] = [];
  for (const [index, entry] of (entries as unknown[]).entries()) {
    if (!isObject(entry) || typeof entry['module'] !== 'string' || entry['module'] === '') continue; // the schema said why
    const where = `/engine/modules/${index}`;
    let loaded;
    try {
      loaded = await loadModule(index, entry as ModuleConf, baseDir);
    } catch (err) {
      problems.push({ path: `${where}/module`, message: `expected a loadable module file or package: ${describeError(err)}` });
      continue;
    }
    const result = prepareModule(loaded, entry as ModuleConf);
    if (Array.isArray(result)) problems.push(...result.map((p) => ({ path: `${where}${p.path}`, message: p.message })));
    else prepared.push(result);
  }
  return prepared;
}
