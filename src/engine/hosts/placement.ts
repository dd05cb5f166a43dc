// Creates the host of each prepared module in the placement its `workers` setting asks for.
import { availableParallelism } from 'node:os';
import type { ModuleHost } from './module-host.ts';
import type { ModuleEngine } from '../types.ts';
import type { PreparedModule } from '../modules.ts';
import { createInThreadHost } from './in-thread-host.ts';
import { createWorkerHost } from './worker-host.ts';
import { createPoolHost } from './pool-host.ts';
import { RoundBarrier } from '../threads/round-barrier.ts';
import type { Watchdog } from '../watchdog.ts';
import type { Logger } from '../../common/logger.ts';

/** What every host of an engine shares. */
export interface EngineParts {
  engine: ModuleEngine;
  watchdog: Watchdog;
  logger: Logger;
}

/** Busy clocks the modules need: one per module thread, one per module on the main thread. */
export function clocksNeeded(modules: readonly PreparedModule[]): number {
  return modules.reduce((sum, module) => sum + Math.max(1, module.workers), 0);
}

/**
 * Creates every module (in parallel: each placement is independent); closes them all if one fails.
 * The barrier is the engine's, to listen for the answers of a round (round-barrier.ts).
 */
export async function createHosts(modules: readonly PreparedModule[], parts: EngineParts): Promise<{ hosts: ModuleHost[]; barrier: RoundBarrier }> {
  const threads = modules.reduce((sum, module) => sum + module.workers, 0);
  // A thread watching its doorbell, or the main thread listening, keeps a core busy for a moment.
  const watch = threads < availableParallelism();
  const barrier = new RoundBarrier(watch);
  const attempts = await Promise.allSettled(modules.map((module) => createHost(module, parts, watch, barrier)));
  const failed = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (!failed) return { hosts: attempts.map((a) => (a as PromiseFulfilledResult<ModuleHost>).value), barrier };
  await Promise.all(attempts.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
  throw failed.reason;
}

function createHost(module: PreparedModule, parts: EngineParts, watch: boolean, barrier: RoundBarrier): Promise<ModuleHost> {
  const { index, label, specifier, conf, workers, limits } = module;
  const opts = { label, specifier, conf, source: { type: 'module', id: index } as const, watch, barrier, limits, ...parts };
  if (workers === 0) return createInThreadHost(opts, module.exports);
  if (workers === 1) return createWorkerHost(opts);
  return createPoolHost(opts, workers);
}
