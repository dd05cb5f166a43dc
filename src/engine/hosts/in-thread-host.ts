// workers: 0 — the module runs on the main thread (light modules, and the benchmark baseline).
import type { Event, RegisterEvent, Source } from '../../common/types.ts';
import type { Subscription } from '../../common/subscription.ts';
import type { HostOptions, ModuleHost } from './module-host.ts';
import type { ModuleExports } from '../types.ts';
import { ModuleRuntime, checkModule, hasSessionHooks, toSubscription } from './module-runtime.ts';
import { ModuleError, describeError } from '../errors.ts';

export async function createInThreadHost(opts: HostOptions, exports: ModuleExports): Promise<ModuleHost> {
  let module;
  try {
    module = await exports.create(opts.conf, opts.engine, opts.source);
    checkModule(module);
  } catch (error) {
    throw new ModuleError(opts.label, `create failed: ${describeError(error)}`, { cause: error });
  }
  return new InThreadHost(opts.label, new ModuleRuntime(module));
}

class InThreadHost implements ModuleHost {
  readonly subscription: Subscription;
  readonly hasSessionHooks: boolean;
  readonly closed: Promise<Error>;
  private isClosed = false;

  constructor(
    readonly label: string,
    private readonly runtime: ModuleRuntime,
  ) {
    this.subscription = toSubscription(runtime.module.subscription);
    this.hasSessionHooks = hasSessionHooks(runtime.module);
    const selfClosed = runtime.module.closed;
    this.closed = selfClosed
      ? selfClosed.then(
          () => new ModuleError(label, 'module closed'),
          (error: unknown) => new ModuleError(label, `module closed: ${describeError(error)}`, { cause: error }),
        )
      : new Promise<Error>(() => {});
  }

  async *process(sessionId: number, sources: Source[], events: Event[]): AsyncIterable<RegisterEvent[]> {
    try {
      yield await this.runtime.round(sessionId, sources, events);
    } catch (error) {
      throw new ModuleError(this.label, `process failed: ${describeError(error)}`, { cause: error });
    }
  }

  async stopSession(sessionId: number): Promise<void> {
    try {
      await this.runtime.stop(sessionId);
    } catch (error) {
      throw new ModuleError(this.label, `session hook failed: ${describeError(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.runtime.module.close?.();
  }
}
