// Checks a whole server configuration before anything is opened: the server schema, the
// eventer address, the backend (loaded, its confSchema) and every module (loaded, its
// confSchema, its placement). Every problem is reported, not just the first.
import path from 'node:path';
import type { BackendModule } from '../backends/backend.ts';
import { parseAddress, type ChatterAddress } from '../chatter/address.ts';
import { parseHttpAddress } from '../metrics/http-server.ts';
import type { ModuleConf } from '../engine/types.ts';
import { loadModule, prepareModule, type PreparedModule } from '../engine/modules.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import type { EventerServerConf, ServerConf } from './server-conf.ts';
import { builtInBackendName, loadBackendModule } from '../backends/backend-modules.ts';
import { validateWithSchema } from '../common/schema.ts';
import serverSchema from './server.schema.json' with { type: 'json' };
import { describeError } from '../common/describe-error.ts';
import { PluginNotFoundError } from '../loader/plugin.ts';
import { peerProblems } from '../syncer/peers.ts';

export interface PreparedConf {
  /** the configuration with defaults filled in and paths made absolute */
  conf: ServerConf;
  backend: BackendModule;
  /** the engine's modules, loaded and checked: the engine takes them as they are */
  modules: PreparedModule[];
  /** 'lmdb' etc. for a built-in backend */
  backendName: string | undefined;
  baseDir: string;
  /** things that are accepted but not acted on (e.g. mariner_server), or that may not do what was meant */
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

  if (isObject(conf.eventer_server)) problems.push(...checkEventerServer(conf.eventer_server, baseDir));
  if (isObject(conf.syncer_server)) problems.push(...checkSyncerServer(conf.syncer_server, baseDir));
  checkPeers(conf, problems);
  const warnings: string[] = [];
  if (isObject(conf.monitor)) checkMonitor(conf, problems, warnings);
  else checkAdvertised(conf, problems);
  checkAddress(conf.metrics_server?.address, parseHttpAddress, '/metrics_server/address', problems);

  const backend = await checkBackend(conf, baseDir, problems);
  const modules = await checkModules(conf, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);

  if (conf.mariner_server !== undefined) warnings.push("'mariner_server' is not supported by this server and is ignored");
  for (const key of ['token', 'subscriptions'] as const) {
    if (conf.syncer_server?.[key] !== undefined) warnings.push(`'syncer_server.${key}' belongs to the Syncer of Hat 0.8.6 and later and is ignored`);
  }
  return { conf, backend: backend!, modules, backendName: builtInBackendName(conf.backend.module), baseDir, warnings };
}

/** What the schema cannot say about eventer_server; file paths are made absolute. */
function checkEventerServer(conf: EventerServerConf, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (key: string, message: string): void => void problems.push({ path: `/eventer_server/${key}`, message });
  const tls = checkListenAddress(conf, at);
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

/** What the schema cannot say about syncer_server; its PEM file is made absolute. */
function checkSyncerServer(conf: NonNullable<ServerConf['syncer_server']>, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (key: string, message: string): void => void problems.push({ path: `/syncer_server/${key}`, message });
  if (!checkListenAddress(conf, at) && conf.pem_file !== undefined) at('pem_file', 'expected only with an ssl+sbs address');
  if (typeof conf.pem_file === 'string') conf.pem_file = path.resolve(baseDir, conf.pem_file);
  return problems;
}

/** A listener's address (tcp+sbs or ssl+sbs, and ssl needs a PEM file); true for ssl. */
function checkListenAddress(conf: { address?: unknown; pem_file?: unknown }, at: (key: string, message: string) => void): boolean {
  if (typeof conf.address !== 'string') return false; // the schema said why
  let tls = false;
  try {
    tls = parseAddress(conf.address).protocol === 'ssl';
  } catch (err) {
    at('address', `expected tcp+sbs://host:port or ssl+sbs://host:port (${describeError(err)})`);
  }
  if (tls && conf.pem_file === undefined) at('pem_file', 'expected a PEM file for an ssl+sbs address');
  return tls;
}

/** The listeners whose addresses a monitor member publishes. */
const PUBLISHED = ['eventer_server', 'syncer_server'] as const;

/**
 * `monitor`: its address, and what the member publishes: the eventer address is published before
 * the server listens on it (only while blessed), so its port must be fixed; a listen address
 * other hosts cannot reach is published only with a warning (Hat publishes it as it is).
 */
function checkMonitor(conf: ServerConf, problems: ConfigProblem[], warnings: string[]): void {
  checkAddress(conf.monitor?.monitor_address, parseAddress, '/monitor/monitor_address', problems);
  if (conf.syncer_peers !== undefined)
    problems.push({ path: '/syncer_peers', message: 'expected no list with monitor: the Syncer client finds its peers in the monitor group' });
  for (const key of PUBLISHED) {
    const listener = conf[key];
    if (!isObject(listener) || typeof listener.address !== 'string') continue;
    const listen = parseOrNull(listener.address);
    const advertised = checkAdvertisedAddress(key, listener, listen, problems);
    if (key === 'eventer_server' && listen?.port === 0)
      problems.push({ path: '/eventer_server/address', message: 'expected a fixed port with monitor: the address is published before the server listens on it' });
    if (listen !== null && advertised === undefined && UNREACHABLE_HOSTS.has(listen.host))
      warnings.push(`'${key}.address' ${listener.address} is published to the monitor group as it is; set '${key}.advertised_address' to the address other hosts reach it at`);
  }
}

/** Hosts a published address cannot point other hosts to. */
const UNREACHABLE_HOSTS = new Set(['0.0.0.0', '::', 'localhost']);

/** Without a monitor nothing is published: an advertised address has no use. */
function checkAdvertised(conf: ServerConf, problems: ConfigProblem[]): void {
  for (const key of PUBLISHED) {
    if (isObject(conf[key]) && conf[key].advertised_address !== undefined)
      problems.push({ path: `/${key}/advertised_address`, message: 'expected only with monitor (it is the address published to the monitor group)' });
  }
}

/** The advertised address (undefined when absent): a chatter address of the listener's protocol. */
function checkAdvertisedAddress(
  key: (typeof PUBLISHED)[number], listener: { advertised_address?: string }, listen: ChatterAddress | null, problems: ConfigProblem[],
): string | undefined {
  const advertised = listener.advertised_address;
  if (typeof advertised !== 'string') return undefined;
  const at = `/${key}/advertised_address`;
  try {
    const parsed = parseAddress(advertised);
    if (listen !== null && parsed.protocol !== listen.protocol) problems.push({ path: at, message: `expected a ${listen.protocol}+sbs address, as ${key}.address` });
  } catch (err) {
    problems.push({ path: at, message: describeError(err) });
  }
  return advertised;
}

/** An address (a string: the schema checks the type) that `parse` refuses is a problem at `path`. */
function checkAddress(address: unknown, parse: (address: string) => unknown, path: string, problems: ConfigProblem[]): void {
  if (typeof address !== 'string') return;
  try {
    parse(address);
  } catch (err) {
    problems.push({ path, message: describeError(err) });
  }
}

function parseOrNull(address: string): ChatterAddress | null {
  try {
    return parseAddress(address);
  } catch {
    return null; // reported by the listener's own check
  }
}

/** `syncer_peers`: what the schema cannot say (an id listed twice, an address that does not parse). */
function checkPeers(conf: ServerConf, problems: ConfigProblem[]): void {
  const entries: unknown[] | undefined = conf.syncer_peers;
  if (!Array.isArray(entries)) return;
  // An entry of the wrong shape has its problem from the schema already.
  const wellFormed = entries.map((e) => isObject(e) && typeof e['address'] === 'string' && Number.isInteger(e['server_id']));
  const found = peerProblems(entries.map((e) => (isObject(e) ? { serverId: e['server_id'] as number, address: e['address'] as string } : { serverId: NaN, address: '' })));
  for (const { index, field, message } of found) {
    if (wellFormed[index]) problems.push({ path: `/syncer_peers/${index}/${field === 'serverId' ? 'server_id' : 'address'}`, message });
  }
}

async function checkBackend(conf: ServerConf, baseDir: string, problems: ConfigProblem[]): Promise<BackendModule | undefined> {
  if (!isObject(conf.backend) || typeof conf.backend.module !== 'string' || conf.backend.module === '') return undefined;
  let backend: BackendModule;
  try {
    backend = await loadBackendModule(conf.backend.module, baseDir);
  } catch (err) {
    problems.push({
      path: '/backend/module',
      message: err instanceof PluginNotFoundError
        ? `backend '${conf.backend.module}' ${err.message}`
        : `expected 'lmdb', 'memory', 'dummy' or a loadable backend module; '${conf.backend.module}' failed: ${describeError(err)}`,
    });
    return undefined;
  }
  if (backend.confSchema) problems.push(...validateWithSchema(backend.confSchema, conf.backend, { prefix: '/backend', ownerKeys: ['module'] }));
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
      const notFound = (err as Error).cause instanceof PluginNotFoundError;
      problems.push({ path: `${where}/module`, message: `${notFound ? '' : 'expected a loadable module file or package: '}${describeError(err)}` });
      continue;
    }
    const result = prepareModule(loaded, entry as ModuleConf);
    if (Array.isArray(result)) problems.push(...result.map((p) => ({ path: `${where}${p.path}`, message: p.message })));
    else prepared.push(result);
  }
  return prepared;
}
