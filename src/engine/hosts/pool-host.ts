// workers: N > 1 — a stateless module spread over N threads, each a module host of its own (the
// same thread, protocol and shared buffers as workers: 1). A round is cut into contiguous chunks,
// one per thread; outputs are passed on in input order, so the result is what one instance would
// have produced. Own threads rather than a task pool (piscina): a pool's per-task dispatch cost
// ~0.3–0.4 ms more per round here than a message on a thread's own port (bench/engine.ts).
import type { Event, RegisterEvent, Source } from '../../common/types.ts';
import type { Subscription } from '../../common/subscription.ts';
import { inOrder, type HostOptions, type ModuleHost } from './module-host.ts';
import { QueuedIterator } from '../../common/queued-iterator.ts';
import { createWorkerHost } from './worker-host.ts';
import { ModuleError } from '../errors.ts';
import { ResourceBase } from '../../common/resource.ts';

/** For a module that exports `stateless = true` (modules.ts checked it). */
export async function createPoolHost(opts: HostOptions, threads: number): Promise<ModuleHost> {
  const attempts = await Promise.allSettled(Array.from({ length: threads }, () => createWorkerHost(opts)));
  const hosts = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  const failed = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  const error = failed
    ? failed.reason
    : hosts.some((host) => host.hasSessionHooks)
      ? new ModuleError(opts.label, 'a pooled (stateless) module cannot have onSessionStart/onSessionStop: run it with workers: 1')
      : null;
  if (error) {
    await Promise.all(hosts.map((host) => host.close()));
    throw error;
  }
  return new PoolHost(opts.label, hosts);
}

class PoolHost extends ResourceBase implements ModuleHost {
  readonly hasSessionHooks = false;
  readonly subscription: Subscription;
  readonly label: string;
  readonly #threads: readonly ModuleHost[];

  get threads(): number {
    return this.#threads.reduce((sum, thread) => sum + thread.threads, 0);
  }

  constructor(label: string, threads: readonly ModuleHost[]) {
    super();
    this.label = label;
    this.#threads = threads;
    this.subscription = (threads[0] as ModuleHost).subscription;
    // The first thread to end takes the pool with it; closing the pool closes every thread.
    for (const thread of threads) this.lifecycle.adopt(thread, true);
  }

  async *process(sessionId: number, sources: Source[], events: Event[]): AsyncIterable<RegisterEvent[]> {
    const threads = this.#threads;
    const chunks = Math.min(threads.length, events.length);
    const size = Math.ceil(events.length / chunks);
    const work: AsyncIterable<RegisterEvent[]>[] = [];
    for (let start = 0, t = 0; start < events.length; start += size, t++) {
      const thread = threads[t] as ModuleHost;
      work.push(thread.process(sessionId, sources.slice(start, start + size), events.slice(start, start + size)));
    }
    // The first thread's outputs pass on as they come; a failure is reported once every thread
    // has settled, so no part of the round is left running.
    const outputs = new QueuedIterator<RegisterEvent[]>();
    inOrder(work, (_, batch) => outputs.push(batch)).then(
      () => outputs.end(),
      (error: unknown) => outputs.fail(error),
    );
    yield* outputs;
  }

  async stopSession(): Promise<void> {}
}
