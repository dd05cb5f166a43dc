// The Component (docs/protocol.md, "The Component"): runs the application's work exactly while it is ready and
// the master's blessing token is present and unchanged. The token is echoed before the work
// starts and released only after the work has fully stopped: that order is what keeps two
// members of a BLESS_ONE group from ever running at once.
import { ResourceBase, type Resource } from '../common/resource.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { describeError } from '../common/describe-error.ts';
import type { SbsInteger } from '../sbs/monitor-messages.ts';
import type { MonitorClient } from './client.ts';

/**
 * idle: not ready. waiting: ready, no token (standby). running: the work runs under `token`.
 * stopping: the work was told to stop and has not finished; the token is still held.
 */
export type ComponentState = 'idle' | 'waiting' | 'running' | 'stopping';

export interface RunContext {
  /** The blessing token this run echoes. */
  readonly token: SbsInteger;
  /** Aborted when the blessing goes (or the component closes): stop, clean up, then return. */
  readonly signal: AbortSignal;
}

/**
 * The work done while blessed. It must keep running until `signal` aborts and return once its
 * cleanup is complete; returning or throwing earlier gives the blessing up and closes the
 * component (with the error, or a "returned while blessed" failure).
 */
export type ComponentRun = (ctx: RunContext) => Promise<void>;

export interface MonitorComponentOptions {
  logger?: Logger;
}

/**
 * Closing the component stops the run and releases the token once the run has returned, and
 * says not ready, so a BLESS_ONE group can bless another member while the client stays
 * connected. When its client closes (close(), MsgClose, connection lost) the component closes
 * first, and its release keeps `ready` as it was, byte for byte as Hat's does.
 */
export interface MonitorComponent extends Resource {
  readonly client: MonitorClient;
  /** The local ready flag; starts as the client's (its `ready` option). */
  readonly ready: boolean;
  readonly state: ComponentState;
  /** The token held (running or stopping), else null. */
  readonly token: SbsInteger | null;
  /** Ready means able to work: only ready components are blessed. */
  setReady(ready: boolean): void;
  /** Called on every state change; returns unsubscribe. */
  onStateChange(listener: (state: ComponentState) => void): () => void;
}

export function createMonitorComponent(client: MonitorClient, run: ComponentRun, opts: MonitorComponentOptions = {}): MonitorComponent {
  return new Component(client, run, opts.logger ?? silentLogger('hat.monitor.component'));
}

class Component extends ResourceBase implements MonitorComponent {
  readonly client: MonitorClient;
  readonly #run: ComponentRun;
  readonly #logger: Logger;
  #ready: boolean;
  #state: ComponentState = 'idle';
  #held: SbsInteger | null = null;
  #abort: AbortController | null = null;
  /** Settles once the current run has ended and its release was sent. */
  #runEnded: Promise<void> = Promise.resolve();
  /** The client is closing under us: the release keeps `ready` as it is, as Hat's does. */
  #clientClosing = false;
  readonly #listeners = new Set<(state: ComponentState) => void>();
  readonly #unsubscribe: (() => void)[];

  constructor(client: MonitorClient, run: ComponentRun, logger: Logger) {
    super();
    this.client = client;
    this.#run = run;
    this.#logger = logger;
    this.#ready = client.blessingRes.ready;
    this.#unsubscribe = [
      client.onChange(() => this.#update()),
      client.onClosing(async () => {
        this.#clientClosing = true;
        await (client.failure ? this.lifecycle.fail(client.failure) : this.close());
      }),
    ];
    if (!client.isOpen) void this.lifecycle.fail(new Error('the monitor client is closed'));
    else this.#update();
  }

  get ready(): boolean {
    return this.#ready;
  }

  get state(): ComponentState {
    return this.#state;
  }

  get token(): SbsInteger | null {
    return this.#held;
  }

  setReady(ready: boolean): void {
    if (ready === this.#ready || !this.isOpen) return;
    this.#ready = ready;
    this.#update();
  }

  onStateChange(listener: (state: ComponentState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The master's token for us; a missing own entry counts as none. */
  get #requested(): SbsInteger | null {
    return this.client.info?.blessingReq.token ?? null;
  }

  #update(): void {
    if (!this.isOpen || this.#state === 'stopping') return;
    const requested = this.#requested;
    if (this.#state === 'running') {
      const lost = !this.#ready ? 'not ready' : requested === null ? 'token revoked' : requested !== this.#held ? 'token changed' : null;
      if (lost === null) return;
      // Going not ready says so at once, still holding the token until the work has stopped.
      if (!this.#ready) this.client.setBlessingRes({ token: this.#held, ready: false });
      this.#logger.info('blessing lost: stopping', { token: String(this.#held), reason: lost });
      this.#stop();
      return;
    }
    if (!this.#ready) {
      this.client.setBlessingRes({ token: null, ready: false });
      this.#setState('idle');
    } else if (requested === null) {
      this.client.setBlessingRes({ token: null, ready: true });
      if (this.#state !== 'waiting') this.#logger.info('standby: ready, waiting for the blessing');
      this.#setState('waiting');
    } else {
      this.#start(requested);
    }
  }

  #start(token: SbsInteger): void {
    this.#held = token;
    this.client.setBlessingRes({ token, ready: true }); // the echo comes before the work starts
    this.#logger.info('blessed: running', { token: String(token) });
    const abort = new AbortController();
    this.#abort = abort;
    let running: Promise<void>;
    try {
      running = this.#run({ token, signal: abort.signal });
    } catch (error) {
      running = Promise.reject(error);
    }
    this.#runEnded = running.then(
      () => this.#onRunEnded(abort, undefined),
      (error: unknown) => this.#onRunEnded(abort, error ?? new Error('the run failed')),
    );
    this.#setState('running'); // last: a listener may already stop it
  }

  #stop(): void {
    this.#setState('stopping');
    this.#abort?.abort();
  }

  #onRunEnded(abort: AbortController, error: unknown): void {
    this.#abort = null;
    const token = this.#held;
    this.#held = null;
    if (!abort.signal.aborted) {
      // [Q3] Work that ends by itself gives up: released as not ready, so the group can move on.
      this.#ready = false;
      this.client.setBlessingRes({ token: null, ready: false });
      this.#setState('idle');
      this.#logger.error('the run ended while blessed: giving the blessing up', { token: String(token), error: error === undefined ? undefined : describeError(error) });
      void this.lifecycle.fail(error ?? new Error('the run returned while blessed'));
      return;
    }
    if (error !== undefined) this.#logger.warning('the run failed while stopping', { token: String(token), error: describeError(error) });
    this.client.setBlessingRes({ token: null, ready: this.#ready });
    this.#logger.info('token released', { token: String(token) });
    if (!this.isOpen) return;
    this.#setState(this.#ready ? 'waiting' : 'idle');
    this.#update(); // a new token may already be there
  }

  #setState(state: ComponentState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch (error) {
        this.#logger.error('component state listener failed', { error: describeError(error) });
      }
    }
  }

  protected override async teardown(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    // Closing alone (not with the client) also gives readiness up: see MonitorComponent.
    if (!this.#clientClosing) this.#ready = false;
    if (this.#state === 'running') {
      this.#logger.info('closing: stopping the run', { token: String(this.#held) });
      this.#stop();
    }
    await this.#runEnded;
    this.client.setBlessingRes({ token: null, ready: this.#ready }); // when it was not running
    this.#setState('idle');
  }
}
