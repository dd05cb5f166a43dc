// workers: 0 — the module runs on the main thread (light modules, and the benchmark baseline).
import type { Event, RegisterEvent, Source } from '../../common/types.ts';
import type { Subscription } from '../../common/subscription.ts';
import type { HostOptions, ModuleHost } from './module-host.ts';
import type { ModuleExports } from '../types.ts';
import { ModuleRuntime, checkModule, hasSessionHooks, toSubscription } from './module-runtime.ts';
import { ModuleError } from '../errors.ts';
import { describeError } from '../../common/describe-error.ts';
import { ResourceBase } from '../../common/resource.ts';
import { CollectingSink } from '../threads/output-stream.ts';
import type { BusyClock } from '../watchdog.ts';

export async function createInThreadHost(opts: HostOptions, exports: ModuleExports): Promise<ModuleHost> {
  let module;
  try {
    module = await exports.create(opts.conf, opts.engine, opts.source);
    checkModule(module);
  } catch (error) {
    throw new ModuleError(opts.label, `create failed: ${describeError(error)}`, { cause: error });
  }
  return new InThreadHost(opts.label, new ModuleRuntime(module), opts.watchdog.clock(opts.label, opts.limits));
}

class InThreadHost extends ResourceBase implements ModuleHost {
  readonly subscription: Subscription;
  readonly hasSessionHooks: boolean;
  readonly threads = 0;
  readonly label: string;
  readonly #runtime: ModuleRuntime;
  readonly #clock: BusyClock;

  constructor(label: string, runtime: ModuleRuntime, clock: BusyClock) {
    super();
    this.label = label;
    this.#runtime = runtime;
    this.#clock = clock;
    this.subscription = toSubscription(runtime.module.subscription);
    this.hasSessionHooks = hasSessionHooks(runtime.module);
    runtime.module.closed?.then(
      () => this.lifecycle.fail(new ModuleError(label, 'module closed')),
      (error: unknown) => this.lifecycle.fail(new ModuleError(label, `module closed: ${describeError(error)}`, { cause: error })),
    );
  }

  async *process(sessionId: number, sources: Source[], events: Event[]): AsyncIterable<RegisterEvent[]> {
    const out = new CollectingSink();
    this.#clock.begin(sessionId);
    try {
      await this.#runtime.round(sessionId, sources, events, out);
    } catch (error) {
      throw new ModuleError(this.label, `process failed: ${describeError(error)}`, { cause: error });
    } finally {
      this.#clock.end();
    }
    yield out.events;
  }

  async stopSession(sessionId: number): Promise<void> {
    this.#clock.begin(sessionId);
    try {
      await this.#runtime.stop(sessionId);
    } catch (error) {
      throw new ModuleError(this.label, `session hook failed: ${describeError(error)}`, { cause: error });
    } finally {
      this.#clock.end();
    }
  }

  // A module that closed itself is not asked to close again, as in a worker (its thread is gone).
  protected override async teardown(failure: Error | undefined): Promise<void> {
    if (failure === undefined) await this.#runtime.module.close?.();
  }
}
