// Finds, imports and checks a module file; shared by the main thread and the worker entries.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import type { ModuleConf, ModuleExports } from './types.ts';
import { ModuleError, describeError } from './errors.ts';
import { describeLoadError } from './module-format.ts';

/** How logs and errors name a module: its index in the config and its specifier. */
export function moduleLabel(index: number, conf: Pick<ModuleConf, 'module'>): string {
  return `module ${index} (${conf.module})`;
}

/**
 * A module specifier is a path (relative to baseDir) or a package name; a bare name that is an
 * existing file in baseDir counts as a path. Returns an importable URL or name.
 */
export function resolveModuleSpecifier(spec: string, baseDir: string): string {
  if (spec.startsWith('file:')) return spec;
  const asPath = path.resolve(baseDir, spec);
  if (spec.startsWith('.') || path.isAbsolute(spec) || existsSync(asPath)) return pathToFileURL(asPath).href;
  try {
    return pathToFileURL(createRequire(path.join(baseDir, 'index.js')).resolve(spec)).href;
  } catch {
    return spec; // ESM-only packages: let import() resolve it
  }
}

let tsxRegistered: Promise<void> | null = null;

/** Imports a module, registering tsx on first need so TypeScript module files load in plain Node. */
export async function importWithTypeScript(specifier: string): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    tsxRegistered ??= import('tsx/esm/api').then((tsx) => {
      tsx.register();
    });
    await tsxRegistered;
    // Node remembers the failed load of this URL; a query makes it a new one for the loader.
    return await import(`${specifier}${specifier.includes('?') ? '&' : '?'}typescript`);
  }
}

export async function loadModuleExports(label: string, specifier: string): Promise<ModuleExports> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await importWithTypeScript(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new ModuleError(label, `cannot load module: ${describeLoadError(specifier, describeError(error))}`, { cause: error });
  }
  const create = loaded['create'];
  if (typeof create !== 'function') throw new ModuleError(label, 'module file does not export a create function');
  const confSchema = loaded['confSchema'];
  if (confSchema !== undefined && (typeof confSchema !== 'object' || confSchema === null))
    throw new ModuleError(label, 'confSchema must be a JSON schema object');
  return {
    create: create as ModuleExports['create'],
    confSchema: confSchema as object | undefined,
    stateless: loaded['stateless'] === true,
  };
}

function formatAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  return `${where} ${error.message ?? 'is invalid'}`;
}

/**
 * Validates a module's conf against its confSchema and returns it with the schema's defaults filled
 * in (a copy: the caller's conf is not changed). The error names the module and each failing path.
 */
export function validateModuleConf(label: string, exports: ModuleExports, conf: ModuleConf): ModuleConf {
  if (!exports.confSchema) return conf;
  let validate;
  try {
    validate = new Ajv({ allErrors: true, strict: false, useDefaults: true }).compile(exports.confSchema);
  } catch (error) {
    throw new ModuleError(label, `invalid confSchema: ${describeError(error)}`, { cause: error });
  }
  const withDefaults = structuredClone(conf);
  if (!validate(withDefaults)) {
    const problems = (validate.errors ?? []).map(formatAjvError).join('; ');
    throw new ModuleError(label, `invalid configuration: ${problems}`);
  }
  return withDefaults;
}
