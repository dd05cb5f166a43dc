// A started server (a Resource) and its stop, in this order: eventer server (DISCONNECTED
// registered), Syncer client, engine (STOPPED), backend flush and every Syncer client's
// confirmation that it holds all of it, Syncer server, backend (final flush), session
// reservation, data lock, metrics server (last, so /healthz answers 503 while the server stops).
// With `monitor` the stop begins with the member: a blessed engine stops (eventer server, engine,
// backend flush, Syncer clients flush), the token is released, the monitor connection closed;
// then the rest as above.
import type { Backend } from '../backends/backend.ts';
import type { DataLock } from '../backends/data-lock.ts';
import type { ReservingBackend } from '../backends/session-reservation.ts';
import { ResourceBase, asError, type Resource } from '../common/resource.ts';
import type { Logger } from '../common/logger.ts';
import type { Engine } from '../engine/types.ts';
import type { MetricsServer } from '../metrics/http-server.ts';
import type { SyncerClient } from '../syncer/client.ts';
import type { SyncerServer } from '../syncer/server.ts';
import type { EngineRunner } from './engine-runner.ts';
import type { MonitorMember } from './monitor-member.ts';

/**
 * A Resource: `closed` settles once the server has stopped, by close() or on its own after a failure;
 * `failure` is undefined after a clean stop (stopped on request, every part closed without error).
 */
export interface RunningServer extends Resource {
  /**
   * bound addresses; `syncer` is empty without `syncer_server`, `metrics` (http://host:port) null
   * without `metrics_server`; with `monitor`, `eventer` is the address listened on while blessed
   */
  readonly addresses: { eventer: string[]; syncer: string[]; metrics: string | null };
  /** the file the backend keeps its data in (its module declares it), null for a backend without one */
  readonly dataPath: string | null;
  /** the engine running now (a new one after a `synced_restart_engine` restart); with `monitor`, null in standby */
  readonly engine: Engine | null;
  /** with `monitor`: the monitor client and the Component that runs the engine while blessed */
  readonly member: MonitorMember | null;
  readonly syncerServer: SyncerServer | null;
  /** runs when `syncer_peers` lists a peer, and always with `monitor` */
  readonly syncerClient: SyncerClient | null;
}

/** What a started server is made of (closed in the order of the file's header). */
export interface Parts {
  /** without a monitor */
  runner: EngineRunner | null;
  /** with a monitor: it runs an engine while blessed */
  member: MonitorMember | null;
  eventerAddresses: string[];
  syncerServer: SyncerServer | null;
  syncerClient: SyncerClient | null;
  /** what the engine stores into (the reservation's wrapper or the flushed-on-register view, if any) */
  backend: Backend;
  /** the backend module's own backend */
  inner: Backend;
  reserving: ReservingBackend | null;
  lock: DataLock | null;
  /** closed last, so /healthz answers 503 while the server stops */
  metricsServer: MetricsServer | null;
  dataPath: string | null;
  log: Logger;
}

export class Server extends ResourceBase implements RunningServer {
  readonly addresses: { eventer: string[]; syncer: string[]; metrics: string | null };
  readonly #parts: Parts;

  constructor(parts: Parts) {
    super();
    this.#parts = parts;
    this.addresses = { eventer: parts.eventerAddresses, syncer: parts.syncerServer?.addresses ?? [], metrics: parts.metricsServer?.address ?? null };
    // closing on their own (a module failure, a failed background flush, a Syncer listener that
    // failed) stops the server, as Hat binds each part to the server's group
    if (parts.runner) this.lifecycle.adopt(parts.runner, (r) => r.failure ?? new Error('the engine closed on its own'));
    if (parts.member) this.lifecycle.adopt(parts.member, (m) => m.failure ?? new Error('the monitor member closed on its own'));
    if (isResource(parts.inner)) this.lifecycle.adopt(parts.inner, (b) => b.failure ?? new Error('the backend closed on its own'));
    if (parts.syncerServer) this.lifecycle.adopt(parts.syncerServer, (s) => s.failure ?? new Error('the syncer server closed on its own'));
    if (parts.syncerClient) this.lifecycle.adopt(parts.syncerClient, (c) => c.failure ?? new Error('the syncer client closed on its own'));
  }

  get engine(): Engine | null {
    return this.#parts.runner?.engine ?? this.#parts.member?.engine ?? null;
  }

  get member(): MonitorMember | null {
    return this.#parts.member;
  }

  get syncerServer(): SyncerServer | null {
    return this.#parts.syncerServer;
  }

  get syncerClient(): SyncerClient | null {
    return this.#parts.syncerClient;
  }

  get dataPath(): string | null {
    return this.#parts.dataPath;
  }

  protected override async teardown(failure: Error | undefined): Promise<void> {
    const { log } = this.#parts;
    if (failure) log.error('stopping after a failure', { error: failure });
    else log.info('stopping');
    // Once the sockets are closed, a stop waiting on a module that holds no handle would leave the
    // process nothing to wait for: it would end mid-stop (exit 13 under a top-level await) instead
    // of finishing the stop or taking a second signal.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    try {
      await this.#closeAll(failure);
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Closes the parts in order; the first thing that went wrong is the stop's failure. */
  async #closeAll(failure: Error | undefined): Promise<void> {
    const { runner, member, syncerServer, syncerClient, backend, reserving, lock, metricsServer, log } = this.#parts;
    // a stuck module thread must not hold the stop (nor the clients' DISCONNECTED)
    runner?.beginStop(); // (a blessed member does the same as it stops its engine)
    const errors: Error[] = [];
    const step = async (what: string, action: () => Promise<void>, part?: { readonly failure?: Error }): Promise<void> => {
      let error: Error | undefined;
      try {
        await action();
        // a part that closed on its own has already given the server its failure
        if (part?.failure !== failure) error = part?.failure;
      } catch (err) {
        error = asError(err);
      }
      if (error === undefined) {
        log.debug(`${what} closed`);
        return;
      }
      errors.push(error);
      log.error(`closing the ${what} failed`, { error });
    };
    // A blessed engine stops as on a lost blessing, then the token is released and the monitor left.
    if (member) await step('monitor member', () => member.close(), member);
    if (runner) await step('eventer server', () => runner.stopEventer());
    if (syncerClient) await step('syncer client', () => syncerClient.close(), syncerClient);
    if (runner) await step('engine', () => runner.close(), runner);
    if (syncerServer) {
      // Every peer holds every event (STOPPED included) before the switchover.
      await step('syncer clients flush', () => syncerServer.flushClients());
      await step('syncer server', () => syncerServer.close(), syncerServer);
    }
    await step('backend', () => backend.close(), backend); // final flush
    if (reserving !== null && failure === undefined && errors.length === 0) {
      await step('session reservation', () => reserving.settle());
    }
    await lock?.close();
    await metricsServer?.close();
    const reason = failure ?? errors[0];
    log.info('stopped', { clean: reason === undefined });
    if (failure === undefined && reason !== undefined) throw reason;
  }
}

function isResource(backend: Backend): backend is Backend & Resource {
  return backend.closed !== undefined;
}
