// The engine's module entries, checked once before any module starts: the entry's shape, its file
// loaded (src/loader), its configuration validated against the module's confSchema (defaults
// filled in), its placement and its time limits. Hosts and module threads get the prepared entry and check nothing
// again. The server prepares its entries with the rest of its configuration (src/config).
import { formatProblems, validateWithSchema, type SchemaProblem } from '../common/schema.ts';
import { describeError } from '../common/describe-error.ts';
import { loadPlugin, resolveSpecifier } from '../loader/plugin.ts';
import type { ModuleConf, ModuleExports } from './types.ts';
import { ModuleError } from './errors.ts';

/** A module entry with its file loaded. */
export interface LoadedModule {
  index: number;
  /** "module <index> (<specifier>)": how errors and logs name it. */
  label: string;
  /** Importable URL or package name of the module file. */
  specifier: string;
  exports: ModuleExports;
}

/** A module entry ready to start: loaded, and its configuration checked and completed. */
export interface PreparedModule extends LoadedModule {
  /** The entry, with its confSchema's defaults filled in. */
  conf: ModuleConf;
  /** 0 the main thread, 1 its own worker thread, N > 1 a pool of N threads. */
  workers: number;
  /** Limits on the time it takes over one session (process_warning, process_timeout). */
  limits: ProcessLimits;
}

/** Seconds; see ModuleConf. */
export interface ProcessLimits {
  warning: number;
  timeout: number | null;
}

/** process_warning's default: a module that takes longer over one session is probably stuck. */
export const DEFAULT_PROCESS_WARNING = 10;

function moduleLabel(index: number, entry: ModuleConf): string {
  return `module ${index} (${entry.module})`;
}

/** The shape createEngine needs of an entry (the server's schema checks the same). */
export function checkModuleEntry(index: number, entry: ModuleConf): void {
  const where = `engine.modules[${index}]`;
  if (typeof entry !== 'object' || entry === null) throw new Error(`${where} must be an object`);
  if (typeof entry.module !== 'string' || entry.module === '') throw new Error(`${where}.module must be a non-empty string`);
  const workers = entry.workers;
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0))
    throw new ModuleError(moduleLabel(index, entry), `${where}.workers must be a non-negative integer, got ${JSON.stringify(workers)}`);
}

/** Imports an entry's module file; a ModuleError names the module when it cannot. */
export async function loadModule(index: number, entry: ModuleConf, baseDir: string): Promise<LoadedModule> {
  const label = moduleLabel(index, entry);
  try {
    const specifier = resolveSpecifier(entry.module, baseDir);
    return { index, label, specifier, exports: (await loadPlugin('module', specifier)) as ModuleExports };
  } catch (error) {
    throw new ModuleError(label, describeError(error), { cause: error });
  }
}

/**
 * Checks a loaded module's entry, filling in its confSchema's defaults in place: the prepared
 * module, or what is wrong (paths relative to the entry): a placement it cannot have, what its
 * confSchema rejects.
 */
export function prepareModule(loaded: LoadedModule, entry: ModuleConf): PreparedModule | SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const workers = entry.workers ?? 1;
  if (workers > 1 && !loaded.exports.stateless)
    problems.push({ path: '/workers', message: 'expected 0 or 1: only modules exporting stateless = true can be pooled' });
  const limits = { warning: entry.process_warning ?? DEFAULT_PROCESS_WARNING, timeout: entry.process_timeout ?? null };
  if (!isSeconds(limits.warning)) problems.push({ path: '/process_warning', message: 'expected a number of seconds > 0' });
  if (limits.timeout !== null && !isSeconds(limits.timeout))
    problems.push({ path: '/process_timeout', message: 'expected a number of seconds > 0, or null (no limit)' });
  else if (limits.timeout !== null && workers === 0)
    problems.push({ path: '/process_timeout', message: 'expected null with workers: 0 (a module on the main thread cannot be interrupted)' });
  if (loaded.exports.confSchema) problems.push(...validateWithSchema(loaded.exports.confSchema, entry, { ownerKeys: ['module', 'workers', 'process_warning', 'process_timeout'] }));
  return problems.length > 0 ? problems : { ...loaded, conf: entry, workers, limits };
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && Number.isFinite(value);
}

/** createEngine's way: every entry prepared in order; the first problem throws, naming its module. */
export async function prepareModules(entries: readonly ModuleConf[], baseDir: string): Promise<PreparedModule[]> {
  const prepared: PreparedModule[] = [];
  for (const [index, entry] of entries.entries()) {
    const loaded = await loadModule(index, entry, baseDir);
    const result = prepareModule(loaded, structuredClone(entry)); // the caller's entry stays as it was
    if (Array.isArray(result)) throw new ModuleError(loaded.label, `invalid configuration: ${formatProblems(result)}`);
    prepared.push(result);
  }
  return prepared;
}
