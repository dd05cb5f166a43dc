// Creates the host of each configured module in the placement its `workers` setting asks for.
import { availableParallelism } from 'node:os';
import type { Source } from '../../common/types.ts';
import type { ModuleHost } from './module-host.ts';
import type { ModuleConf, ModuleEngine } from '../types.ts';
import { loadModuleExports, moduleLabel, resolveModuleSpecifier, validateModuleConf } from '../../loader/plugin.ts';
import { createInThreadHost } from './in-thread-host.ts';
import { createWorkerHost } from './worker-host.ts';
import { createPoolHost } from './pool-host.ts';
import { ModuleError } from '../errors.ts';
import { RoundBarrier } from '../threads/round-barrier.ts';

export function checkModuleConf(index: number, conf: ModuleConf): void {
  const where = `engine.modules[${index}]`;
  if (typeof conf !== 'object' || conf === null) throw new Error(`${where} must be an object`);
  if (typeof conf.module !== 'string' || conf.module === '') throw new Error(`${where}.module must be a non-empty string`);
  const workers = conf.workers;
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0))
    throw new ModuleError(moduleLabel(index, conf), `${where}.workers must be a non-negative integer, got ${JSON.stringify(workers)}`);
}

/** Creates every module (in parallel: each placement is independent); closes them all if one fails. */
export async function createHosts(modules: ModuleConf[], engine: ModuleEngine, baseDir: string): Promise<ModuleHost[]> {
  const threads = modules.reduce((sum, conf) => sum + (conf.workers ?? 1), 0);
  const watch = threads < availableParallelism();
  const barrier = new RoundBarrier();
  const attempts = await Promise.allSettled(modules.map((conf, index) => createHost(index, conf, engine, baseDir, watch, barrier)));
  const failed = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (!failed) return attempts.map((a) => (a as PromiseFulfilledResult<ModuleHost>).value);
  await Promise.all(attempts.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
  throw failed.reason;
}

async function createHost(
  index: number,
  given: ModuleConf,
  engine: ModuleEngine,
  baseDir: string,
  watch: boolean,
  barrier: RoundBarrier,
): Promise<ModuleHost> {
  checkModuleConf(index, given);
  const label = moduleLabel(index, given);
  const specifier = resolveModuleSpecifier(given.module, baseDir);
  const exports = await loadModuleExports(label, specifier);
  const conf = validateModuleConf(label, exports, given);
  const source: Source = { type: 'module', id: index };
  const opts = { index, label, specifier, conf, source, engine, watch, barrier };
  const workers = conf.workers ?? 1;
  if (workers === 0) return createInThreadHost(opts, exports);
  if (workers === 1) return createWorkerHost(opts);
  return createPoolHost(opts, exports, workers);
}
