// Backends by name: the built-in ones (`lmdb`, `memory`, `dummy`, also under Hat's Python module
// names so ported configurations work unchanged), else a file path or package exporting
// `create(conf)` and optionally `confSchema`. Each built-in backend declares its module beside
// its code; the server wires any backend by what its module declares, never by its name.
import type { BackendModule } from './backend.ts';
import { dummyBackendModule } from './dummy.ts';
import { memoryBackendModule } from './memory.ts';
import { lmdbBackendModule } from './lmdb/backend.ts';
import { PluginNotFoundError, loadPlugin, resolveSpecifier } from '../loader/plugin.ts';
import { closestKey } from '../common/schema.ts';

export const BUILT_IN_BACKENDS: Record<string, BackendModule> = {
  lmdb: lmdbBackendModule,
  memory: memoryBackendModule,
  dummy: dummyBackendModule,
};

/** Hat's module names of the same backends. */
const HAT_NAMES = /^hat\.event\.(?:server\.)?backends\.(lmdb|memory|dummy)$/;

export function builtInBackendName(spec: string): string | undefined {
  if (Object.hasOwn(BUILT_IN_BACKENDS, spec)) return spec;
  return HAT_NAMES.exec(spec)?.[1];
}

export async function loadBackendModule(spec: string, baseDir: string): Promise<BackendModule> {
  const builtIn = builtInBackendName(spec);
  if (builtIn !== undefined) return BUILT_IN_BACKENDS[builtIn]!;
  let specifier: string;
  try {
    specifier = resolveSpecifier(spec, baseDir);
  } catch (err) {
    if (!(err instanceof PluginNotFoundError)) throw err;
    const names = Object.keys(BUILT_IN_BACKENDS);
    const meant = closestKey(spec, names);
    const builtIns = `not a built-in backend (${names.join(', ')}${meant !== undefined ? `: did you mean ${meant}?` : ''})`;
    throw new PluginNotFoundError([builtIns, ...err.looked]);
  }
  const { create, confSchema } = await loadPlugin('backend', specifier);
  return { create: create as BackendModule['create'], confSchema };
}
