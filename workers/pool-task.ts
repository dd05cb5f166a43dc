// Entry of a pooled thread (workers: N > 1, stateless modules only). Each thread creates its own
// instance of the module on its first task; a task is one contiguous chunk of a round's events.
import { BroadcastChannel } from 'node:worker_threads';
import { workerData } from 'piscina';
import * as Comlink from 'comlink';
import { ModuleRuntime, checkModule, hasSessionHooks, toSubscription } from '../src/engine/module-runtime.ts';
import { loadModuleExports } from '../src/engine/module-loader.ts';
import { remoteModuleEngine } from '../src/engine/worker-protocol.ts';
import type { PoolTask, PoolWorkerData } from '../src/engine/pool-host.ts';
import type { Module } from '../src/engine/types.ts';
import { SharedBatch, decodeRound, encodeRegisterEvents } from '../src/engine/event-batch-codec.ts';

const data = workerData as PoolWorkerData;

// The pool's threads share one broadcast channel to the engine; comlink matches replies by id.
const channel = new BroadcastChannel(data.channel);
const moduleEngine = remoteModuleEngine(channel as unknown as Comlink.Endpoint);

async function createRuntime(): Promise<ModuleRuntime> {
  const exports = await loadModuleExports(data.label, data.specifier);
  const module: Module = await exports.create(data.conf, moduleEngine, data.source);
  checkModule(module);
  if (hasSessionHooks(module))
    throw new Error('a pooled (stateless) module cannot have onSessionStart/onSessionStop: run it with workers: 1');
  return new ModuleRuntime(module);
}

let runtime: Promise<ModuleRuntime> | null = null;

export default async function runTask(task: PoolTask): Promise<Uint8Array | string[][]> {
  runtime ??= createRuntime();
  const ready = await runtime;
  if ('probe' in task) return toSubscription(ready.module.subscription).getQueryTypes().map((t) => [...t]);
  const { events, sources } = decodeRound(task.batch);
  return encodeRegisterEvents(await ready.round(task.session, sources, events), new SharedBatch(task.output));
}
