// The server as a member of a Hat Monitor redundancy group (docs/protocol.md, "The event server
// as a member"): connected to the monitor from the start, ready from the start, publishing what
// Hat publishes. The engine and the eventer server (an EngineRunner) run only while the monitor
// blesses this server; when the blessing goes they stop in Hat's order (eventer server, engine
// with STOPPED, backend flush, every Syncer client holding all of it) before the token is
// released, and the server stays up in standby. Losing the monitor stops the server ([Q10]).
import type { JsonValue, RegisterEvent, Event, Source } from '../common/types.ts';
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/describe-error.ts';
import { ResourceBase } from '../common/resource.ts';
import { untilAborted } from '../common/abort.ts';
import type { Engine } from '../engine/types.ts';
import { connectMonitorClient, type MonitorClient, type MonitorClientConf } from '../monitor/client.ts';
import { createMonitorComponent, type MonitorComponent, type RunContext } from '../monitor/component.ts';
import type { StatusRegistrar } from '../syncer/status.ts';
import type { EngineRunner } from './engine-runner.ts';

/** The monitor went away (connection lost, MsgClose) or could not be reached at start. */
export class MonitorLostError extends Error {
  override readonly name = 'MonitorLostError';
}

/**
 * The engine running now, if any: where the Syncer registers its status events. In standby
 * there is none and a status event is dropped, as in Hat (its runner registers them only while
 * it runs); each engine that starts gets the Syncer server's client list (`onEngineStart`).
 */
export class RunnerSlot implements StatusRegistrar {
  #runner: EngineRunner | null = null;
  readonly #onEngineStart = new Set<() => void>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get runner(): EngineRunner | null {
    return this.#runner;
  }

  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]> {
    if (this.#runner !== null) return this.#runner.register(source, events);
    this.#log.debug('status event not registered: standby, no engine runs', { types: events.map((e) => e.type.join('/')) });
    return Promise.resolve(events.map(() => null));
  }

  /** `cb` runs whenever an engine starts here (a blessing, or a restart of a blessed engine). */
  onEngineStart(cb: () => void): void {
    this.#onEngineStart.add(cb);
  }

  /** `synced_restart_engine` while blessed; nothing in standby (the next blessing starts afresh anyway). */
  restart(reason: string): Promise<void> {
    return this.#runner?.restart(reason) ?? Promise.resolve();
  }

  attach(runner: EngineRunner): void {
    this.#runner = runner;
    const started = (): void => {
      for (const cb of this.#onEngineStart) cb();
    };
    runner.onEngineStart(started);
    started();
  }

  detach(): void {
    this.#runner = null;
  }
}

export interface MonitorMemberOptions {
  conf: MonitorClientConf;
  /** what the other members and the eventer clients read: server id, addresses, syncer token */
  data: JsonValue;
  slot: RunnerSlot;
  /** an engine and its eventer server, listening */
  startRunner(): Promise<EngineRunner>;
  /** once the runner has closed, before the token is released: the backend flush and the Syncer clients' */
  afterStop(): Promise<void>;
  /** the server's logger: the member logs as 'monitor' */
  logger: Logger;
}

/** Connects to the monitor; a monitor that cannot be reached is a MonitorLostError. */
export async function joinMonitorGroup(opts: MonitorMemberOptions): Promise<MonitorMember> {
  const log = opts.logger.child('monitor');
  let client: MonitorClient;
  try {
    client = await connectMonitorClient(opts.conf, { data: opts.data, ready: true, logger: log });
  } catch (err) {
    throw new MonitorLostError(`cannot connect to the monitor at ${opts.conf.monitor_address}: ${describeError(err)}`, { cause: err });
  }
  log.info('joined the monitor group', { name: opts.conf.name, group: opts.conf.group, monitor_address: opts.conf.monitor_address, data: opts.data });
  return new MonitorMember(client, opts, log);
}

/**
 * A Resource that fails with a MonitorLostError when the monitor goes, or with the engine's
 * failure when the blessed engine stops on its own (then the blessing is given up first, [Q3]).
 * Closing it stops a blessed engine as a lost blessing does, releases, then disconnects.
 */
export class MonitorMember extends ResourceBase {
  readonly client: MonitorClient;
  readonly component: MonitorComponent;
  readonly #opts: MonitorMemberOptions;
  readonly #log: Logger;

  constructor(client: MonitorClient, opts: MonitorMemberOptions, log: Logger) {
    super();
    this.client = client;
    this.#opts = opts;
    this.#log = log;
    this.component = createMonitorComponent(client, (ctx) => this.#run(ctx), { logger: log });
    const ended = (): void => {
      if (!this.isOpen) return;
      const lost = client.failure;
      if (lost !== undefined) {
        // By now the component has stopped a blessed engine: the safety-critical part is done.
        log.error('lost the monitor: stopping the server', { reason: describeError(lost) });
        void this.lifecycle.fail(new MonitorLostError(`lost the monitor: ${describeError(lost)}`, { cause: lost }));
      } else {
        void this.lifecycle.fail(this.component.failure ?? new Error('the monitor component closed'));
      }
    };
    void this.component.closed.then(ended);
    void client.closed.then(ended);
  }

  /** The engine while blessed, else null (standby). */
  get engine(): Engine | null {
    return this.#opts.slot.runner?.engine ?? null;
  }

  async #run({ token, signal }: RunContext): Promise<void> {
    const { slot, startRunner, afterStop } = this.#opts;
    const runner = await startRunner();
    slot.attach(runner);
    for (const address of runner.eventerAddresses) this.#log.info('eventer server listening', { address, token: String(token) });
    try {
      await Promise.race([untilAborted(signal), runner.closed]);
      if (!signal.aborted) throw runner.failure ?? new Error('the engine closed on its own');
    } finally {
      slot.detach();
      runner.beginStop(); // a module thread stuck past its process_warning is not waited for
      await runner.stopEventer().catch((error: unknown) => this.#log.error('closing the eventer server failed', { error: describeError(error) }));
      await runner.close();
      await afterStop().catch((error: unknown) => this.#log.error('flushing before the release failed', { error: describeError(error) }));
      this.#log.info('engine stopped', { token: String(token), clean: runner.failure === undefined });
    }
  }

  protected override async teardown(): Promise<void> {
    await this.component.close();
    await this.client.close();
  }
}
