// Creates the host of each prepared module in the placement its `workers` setting asks for.
import { availableParallelism } from 'node:os';
import type { HostOptions, ModuleHost } from './module-host.ts';
import type { ModuleEngine } from '../types.ts';
import type { PreparedModule } from '../modules.ts';
import { createInThreadHost } from './in-thread-host.ts';
import { createWorkerHost } from './worker-host.ts';
import { createPoolHost } from './pool-host.ts';
import { RoundBarrier } from '../threads/round-barrier.ts';
import type { Logger } from '../../common/logger.ts';

/** Creates every module (in parallel: each placement is independent); closes them all if one fails. */
export async function createHosts(modules: readonly PreparedModule[], engine: ModuleEngine, logger: Logger): Promise<ModuleHost[]> {
  const threads = modules.reduce((sum, module) => sum + module.workers, 0);
  const watch = threads < availableParallelism();
  const barrier = new RoundBarrier();
  const attempts = await Promise.allSettled(modules.map((module) => createHost(module, { engine, watch, barrier, logger })));
  const failed = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (!failed) return attempts.map((a) => (a as PromiseFulfilledResult<ModuleHost>).value);
  await Promise.all(attempts.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
  throw failed.reason;
}

function createHost(module: PreparedModule, shared: Pick<HostOptions, 'engine' | 'watch' | 'barrier' | 'logger'>): Promise<ModuleHost> {
  const { index, label, specifier, conf, workers } = module;
  const opts: HostOptions = { label, specifier, conf, source: { type: 'module', id: index }, ...shared };
  if (workers === 0) return createInThreadHost(opts, module.exports);
  if (workers === 1) return createWorkerHost(opts);
  return createPoolHost(opts, workers);
}
