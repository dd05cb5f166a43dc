// Checks a whole server configuration before anything is opened: the server schema, the
// eventer address, the backend (loaded, its confSchema) and every module (loaded, its
// confSchema, its placement). Every problem is reported, not just the first.
import path from 'node:path';
import type { BackendModule } from '../backends/backend.ts';
import { parseAddress } from '../chatter/address.ts';
import { loadModuleExports, moduleLabel, resolveModuleSpecifier } from '../engine/module-loader.ts';
import type { ModuleConf } from '../engine/types.ts';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import type { EventerServerConf, ServerConf } from './conf-types.ts';
import { builtInBackendName, loadBackendModule } from './backend-modules.ts';
import { loadServerSchema, validateWithSchema } from './schema.ts';
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

  if (isObject(conf.eventer_server)) problems.push(...checkEventerServer(conf.eventer_server, baseDir));

  const backend = await checkBackend(conf, baseDir, problems);
  await checkModules(conf, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);

  const warnings: string[] = [];
  for (const key of ['syncer_server', 'monitor', 'mariner_server'] as const) {
    if (conf[key] !== undefined) warnings.push(`'${key}' is not supported by this server yet and is ignored`);
  }
  return { conf, backend: backend!, backendName: builtInBackendName(conf.backend.module), baseDir, warnings };
}

/** What the schema cannot say about eventer_server; file paths are made absolute. */
function checkEventerServer(conf: EventerServerConf, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (key: string, message: string): void => void problems.push({ path: `/eventer_server/${key}`, message });
  let tls = false;
  if (typeof conf.address === 'string') {
    try {
      tls = parseAddress(conf.address).protocol === 'ssl';
    } catch (err) {
      at('address', `expected tcp+sbs://host:port or ssl+sbs://host:port (${describeError(err)})`);
    }
  }
  if (tls && conf.pem_file === undefined) at('pem_file', 'expected a PEM file for an ssl+sbs address');
  for (const key of ['pem_file', 'ca_file', 'require_client_certificate'] as const) {
    if (!tls && conf[key] !== undefined && conf[key] !== false) at(key, 'expected only with an ssl+sbs address');
  }
  if (tls && conf.require_client_certificate === true && conf.ca_file === undefined)
    at('ca_file', 'expected the CA certificates client certificates must chain to (require_client_certificate is true)');
  if (tls && conf.ca_file !== undefined && conf.require_client_certificate !== true)
    at('require_client_certificate', 'expected true with ca_file (the CA only checks client certificates)');
  if (typeof conf.max_frame_size === 'number' && typeof conf.max_input_bytes === 'number' && conf.max_frame_size > conf.max_input_bytes)
    at('max_frame_size', `expected at most max_input_bytes (${conf.max_input_bytes}): a larger frame could never be received`);
  for (const key of ['pem_file', 'ca_file'] as const) {
    if (typeof conf[key] === 'string') conf[key] = path.resolve(baseDir, conf[key]);
  }
  return problems;
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
