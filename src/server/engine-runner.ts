// The engine and the eventer server in front of it, as one part of the server (Hat's EngineRunner):
// started together, stopped together, and restarted together (`restart`, for
// `synced_restart_engine`). The Syncer registers its status events here, so they reach whichever
// engine is current.
import type { Backend } from '../backends/backend.ts';
import type { Event, RegisterEvent, Source } from '../common/types.ts';
import type { Logger } from '../common/logger.ts';
import { noMetrics, reusableMetrics, type Metrics } from '../common/metrics.ts';
import { ResourceBase } from '../common/resource.ts';
import { startEngine } from '../engine/engine.ts';
import { EngineClosedError } from '../engine/errors.ts';
import type { PreparedModule } from '../engine/modules.ts';
import type { Engine } from '../engine/types.ts';
import { createEventerServer, type EventerServer, type EventerServerOptions } from '../eventer/server.ts';
import type { StatusRegistrar } from '../syncer/status.ts';
import { StartupError } from './startup-checks.ts';

export interface EngineRunnerOptions {
  serverId: number;
  modules: readonly PreparedModule[];
  backend: Backend;
  eventer: { address: string; options: Omit<EventerServerOptions, 'logger'> };
  /** the server's logger: the engine logs as its child 'engine', the eventer server as 'eventer' */
  logger: Logger;
  /** where the engine and eventer server count (the same series across restarts); default nowhere */
  metrics?: Metrics;
}

/**
 * A Resource that closes on its own (with the engine's failure) when its engine does; closing it
 * closes the eventer server, then the engine (STOPPED stored).
 */
export class EngineRunner extends ResourceBase implements StatusRegistrar {
  readonly #opts: EngineRunnerOptions;
  readonly #log: Logger;
  readonly #onEngineStart = new Set<() => void>();
  #engine: Engine;
  #eventer: EventerServer | null = null;
  /** The bound eventer address after the first listen: a restart listens on the same port. */
  #eventerAddress: string;
  /** Set once the stop has closed the eventer server: a restart then leaves it closed. */
  #eventerStopped = false;
  #restarting: Promise<void> | null = null;

  /** Starts the engine; the eventer server follows with `listen()`. */
  static async start(opts: EngineRunnerOptions): Promise<EngineRunner> {
    const withMetrics = { ...opts, metrics: reusableMetrics(opts.metrics ?? noMetrics()) };
    return new EngineRunner(withMetrics, await startRunnerEngine(withMetrics));
  }

  private constructor(opts: EngineRunnerOptions, engine: Engine) {
    super();
    this.#opts = opts;
    this.#log = opts.logger.child('server');
    this.#eventerAddress = opts.eventer.address;
    this.#engine = this.#watch(engine);
  }

  /** The engine now running (another one after a restart). */
  get engine(): Engine {
    return this.#engine;
  }

  get eventerAddresses(): string[] {
    return [...(this.#eventer?.addresses ?? [])];
  }

  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]> {
    return this.#engine.register(source, events);
  }

  /** `cb` runs after each restart's engine has started, before the eventer server listens again. */
  onEngineStart(cb: () => void): void {
    this.#onEngineStart.add(cb);
  }

  /** Starts the eventer server on the engine now running. */
  async listen(): Promise<void> {
    const { eventer, logger, metrics } = this.#opts;
    const address = this.#eventerAddress;
    this.#eventer = await createEventerServer(this.#engine, address, { ...eventer.options, logger: logger.child('eventer'), metrics })
      .catch((err: NodeJS.ErrnoException) => {
        throw new StartupError(`cannot listen on ${address}: ${err.code ?? err.message}`, { cause: err });
      });
    this.#eventerAddress = this.#eventer.addresses[0] ?? address;
  }

  /**
   * Before the stop's first step: from now on a module thread stuck past its process_warning is
   * terminated rather than waited for (Engine.beginStop), and no restart starts another engine.
   */
  beginStop(): void {
    this.#eventerStopped = true;
    this.#engine.beginStop();
  }

  /** The first step of a stop: clients are disconnected (DISCONNECTED registered) while the engine still runs. */
  async stopEventer(): Promise<void> {
    this.#eventerStopped = true;
    await this.#restarting;
    const eventer = this.#eventer;
    await eventer?.close();
    if (eventer?.failure !== undefined) throw eventer.failure;
  }

  /**
   * Hat's engine restart: the eventer server closes (its clients reconnect), the engine stops
   * (STOPPED), a new one starts (STARTED, its modules created afresh), and the eventer server
   * listens again on the same address. Restarts asked for while one runs join it.
   */
  restart(reason: string): Promise<void> {
    if (!this.isOpen || this.#eventerStopped) return Promise.resolve();
    this.#restarting ??= this.#restart(reason).then(
      () => undefined,
      (err: unknown) => void this.lifecycle.fail(err),
    ).finally(() => (this.#restarting = null));
    return this.#restarting;
  }

  async #restart(reason: string): Promise<void> {
    this.#log.info('restarting the engine', { reason });
    await this.#eventer?.close();
    this.#eventer = null;
    const old = this.#engine;
    await old.close();
    if (old.failure !== undefined) throw old.failure;
    if (!this.isOpen) return;
    this.#engine = this.#watch(await startRunnerEngine(this.#opts));
    for (const cb of this.#onEngineStart) cb();
    if (!this.#eventerStopped) await this.listen();
  }

  /** An engine that closes on its own closes the runner; one closed by a restart or the stop does not. */
  #watch(engine: Engine): Engine {
    void engine.closed.then(() => {
      if (engine === this.#engine && this.#restarting === null && this.isOpen)
        void this.lifecycle.fail(engine.failure ?? new EngineClosedError());
    });
    return engine;
  }

  protected override async teardown(): Promise<void> {
    this.#eventerStopped = true;
    await this.#restarting;
    await this.#eventer?.close();
    await this.#engine.close();
    if (this.#engine.failure !== undefined && this.#engine.failure !== this.failure) throw this.#engine.failure;
  }
}

function startRunnerEngine(opts: EngineRunnerOptions): Promise<Engine> {
  return startEngine(opts.serverId, opts.modules, opts.backend, { logger: opts.logger.child('engine'), metrics: opts.metrics });
}
