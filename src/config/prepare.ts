// Checks a whole server configuration before anything is opened: the server schema, the
// eventer address, the backend (loaded, its confSchema) and every module (loaded, its
// confSchema, its placement). Every problem is reported, not just the first.
import path from 'node:path';
import type { BackendModule } from '../backends/backend.ts';
import { parseAddress } from '../chatter/address.ts';
import { loadModuleExports, moduleLabel, resolveModuleSpecifier } from '../loader/plugin.ts';
import type { ModuleConf } from '../engine/types.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import type { ServerConf } from './server-conf.ts';
import { builtInBackendName, loadBackendModule } from '../backends/backend-modules.ts';
import { loadServerSchema, validateWithSchema } from '../common/schema.ts';
import { describeError } from '../common/describe-error.ts';

export interface PreparedConf {
  /** the configuration with defaults filled in and paths made absolute */
  conf: ServerConf;
  backend: BackendModule;
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
  const problems: ConfigProblem[] = validateWithSchema(loadServerSchema(), conf);
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
  if (typeof conf.eventer_server?.pem_file === 'string') conf.eventer_server.pem_file = path.resolve(baseDir, conf.eventer_server.pem_file);

  const backend = await checkBackend(conf, baseDir, problems);
  await checkModules(conf, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);

  const warnings: string[] = [];
  for (const key of ['syncer_server', 'monitor', 'mariner_server'] as const) {
    if (conf[key] !== undefined) warnings.push(`'${key}' is not supported by this server yet and is ignored`);
  }
  return { conf, backend: backend!, backendName: builtInBackendName(conf.backend.module), baseDir, warnings };
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
  if (builtInBackendName(conf.backend.module) === 'lmdb' && typeof conf.backend['db_path'] === 'string')
    conf.backend['db_path'] = path.resolve(baseDir, conf.backend['db_path']);
  return backend;
}

async function checkModules(conf: ServerConf, baseDir: string, problems: ConfigProblem[]): Promise<void> {
  const modules = conf.engine?.modules;
  if (!Array.isArray(modules)) return;
  for (const [index, moduleConf] of (modules as unknown[]).entries()) {
    if (!isObject(moduleConf) || typeof moduleConf['module'] !== 'string' || moduleConf['module'] === '') continue;
    const where = `/engine/modules/${index}`;
    const mc = moduleConf as ModuleConf;
    let exports;
    try {
      exports = await loadModuleExports(moduleLabel(index, mc), resolveModuleSpecifier(mc.module, baseDir));
    } catch (err) {
      problems.push({ path: `${where}/module`, message: `expected a loadable module file or package: ${describeError(err)}` });
      continue;
    }
    if (typeof mc.workers === 'number' && mc.workers > 1 && !exports.stateless)
      problems.push({ path: `${where}/workers`, message: 'expected 0 or 1: only modules exporting stateless = true can be pooled' });
    if (exports.confSchema) problems.push(...validateWithSchema(exports.confSchema, mc, where));
  }
}
