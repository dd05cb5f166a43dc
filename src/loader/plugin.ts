// Plugins: the module files of the engine and backend files named in a configuration. Finds and
// imports a file (TypeScript too) and checks what it exports, the same way for both kinds; the
// engine and the configuration say what a failure means for them.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeError } from '../common/describe-error.ts';
import { describeLoadError } from './module-format.ts';

/** What every plugin exports; `stateless` only means something to engine modules. */
export interface PluginExports {
  create: (...args: never[]) => unknown;
  confSchema?: object;
  stateless: boolean;
}

/** A plugin that is neither a file nor an installed package; `looked` says where it was looked for. */
export class PluginNotFoundError extends Error {
  constructor(readonly looked: string[]) {
    super(`not found: ${looked.join(', ')}`);
    this.name = 'PluginNotFoundError';
  }
}

/** This file's folder: import() of a bare name looks for packages from here. */
const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * A specifier is a path (relative to baseDir) or a package name; a bare name that is an existing
 * file in baseDir counts as a path. Returns an importable URL or name; throws PluginNotFoundError
 * when there is no such file or package.
 */
export function resolveSpecifier(spec: string, baseDir: string): string {
  const asPath = spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(baseDir, spec);
  if (spec.startsWith('file:') || spec.startsWith('.') || path.isAbsolute(spec) || existsSync(asPath)) {
    if (!existsSync(asPath)) throw new PluginNotFoundError([`no file ${asPath}`]);
    return pathToFileURL(asPath).href;
  }
  try {
    return pathToFileURL(createRequire(path.join(baseDir, 'index.js')).resolve(spec)).href;
  } catch {
    // a package that only import() resolves (ESM-only exports) is left to it, if it is there
    const name = spec.startsWith('@') ? spec.split('/', 2).join('/') : spec.split('/', 1)[0]!;
    if (installedAbove(name, baseDir) || installedAbove(name, HERE)) return spec;
    throw new PluginNotFoundError([`no file ${asPath}`, `no package '${name}' in a node_modules folder of ${baseDir} or above it`]);
  }
}

function installedAbove(name: string, dir: string): boolean {
  for (let at = dir; ; at = path.dirname(at)) {
    if (existsSync(path.join(at, 'node_modules', name, 'package.json'))) return true;
    if (path.dirname(at) === at) return false;
  }
}

let tsxRegistered: Promise<void> | null = null;

/** Imports a file, registering tsx on first need so TypeScript files load in plain Node. */
async function importWithTypeScript(specifier: string): Promise<unknown> {
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

/**
 * Imports a resolved specifier and checks its exports: `create` a function, `confSchema` (if any)
 * an object. Throws an Error whose message says what is wrong, naming the `kind` of file.
 */
export async function loadPlugin(kind: 'module' | 'backend', specifier: string): Promise<PluginExports> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await importWithTypeScript(specifier)) as Record<string, unknown>;
  } catch (error) {
    // Node names the importing file: this one, for a bare package name; that says nothing to a user
    const message = describeError(error).replace(` imported from ${fileURLToPath(import.meta.url)}`, '');
    throw new Error(`cannot load ${kind}: ${describeLoadError(specifier, message)}`, { cause: error });
  }
  const create = loaded['create'];
  if (typeof create !== 'function') throw new Error(`${kind} file does not export a create function`);
  const confSchema = loaded['confSchema'];
  if (confSchema !== undefined && (typeof confSchema !== 'object' || confSchema === null))
    throw new Error(`${kind} file exports a confSchema that is not a JSON schema object`);
  return { create: create as PluginExports['create'], confSchema: confSchema as object | undefined, stateless: loaded['stateless'] === true };
}
