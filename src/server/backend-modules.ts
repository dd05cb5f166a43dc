// Backends by name: the built-in ones (`lmdb`, `memory`, `dummy`, also under Hat's Python module
// names so ported configurations work unchanged), else a file path or package exporting
// `create(conf)` and optionally `confSchema`.
import type { BackendModule } from '../backends/backend.ts';
import { createDummyBackend } from '../backends/dummy.ts';
import { createMemoryBackend } from '../backends/memory.ts';
import { createLmdbBackend } from '../backends/lmdb/backend.ts';
import { confSchema as lmdbConfSchema, type LmdbBackendConf } from '../backends/lmdb/conf.ts';
import { importWithTypeScript, resolveModuleSpecifier } from '../engine/module-loader.ts';

export const BUILT_IN_BACKENDS: Record<string, BackendModule> = {
  lmdb: { create: (conf, options) => createLmdbBackend(conf as unknown as LmdbBackendConf, options), confSchema: lmdbConfSchema },
  memory: { create: (conf) => createMemoryBackend(conf) },
  dummy: { create: (conf) => createDummyBackend(conf) },
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
  const loaded = (await importWithTypeScript(resolveModuleSpecifier(spec, baseDir))) as Record<string, unknown>;
  const create = loaded['create'];
  if (typeof create !== 'function') throw new Error('the backend module does not export a create(conf) function');
  const confSchema = loaded['confSchema'];
  if (confSchema !== undefined && (typeof confSchema !== 'object' || confSchema === null))
    throw new Error('the backend module exports a confSchema that is not a JSON schema object');
  return { create: create as BackendModule['create'], confSchema: confSchema as object | undefined };
}
