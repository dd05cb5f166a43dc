// The server: backend -> engine -> eventer server, started in that order and stopped in the
// reverse (eventer server, engine with its STOPPED event, backend with its final flush).
import type { Backend } from '../backends/backend.ts';
import { eventIdKey } from '../common/event-id.ts';
import { startEngine } from '../engine/engine.ts';
import type { Engine } from '../engine/types.ts';
import { createEventerServer, type EventerServer } from '../eventer/server.ts';
import type { Event } from '../common/types.ts';
import type { ServerConf } from '../config/server-conf.ts';
import { prepareServerConf, type PreparedConf } from '../config/prepare.ts';
import { acquireDataLock, type DataLock } from '../backends/data-lock.ts';
import { createLogger, type Logger } from './logger.ts';
import { ReservingBackend, reservationFileOf } from '../backends/session-reservation.ts';
import { checkPortFree, prepareDataDir, StartupError } from './startup-checks.ts';
import { describeError } from '../common/describe-error.ts';
import { ResourceBase, asError, type Resource } from '../common/resource.ts';
import type { Metrics } from '../common/metrics.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { parseHttpAddress, startMetricsServer, type MetricsServer } from '../metrics/http-server.ts';
import { serverHealth } from './health.ts';

export interface RunServerOptions {
  /** relative paths in `conf` resolve against this folder; default the working directory */
  baseDir?: string;
  /** names the configuration in error messages */
  source?: string;
  /** default: a logger configured by `conf.log`, writing to stderr */
  logger?: Logger;
}

/**
 * A Resource: `closed` settles once the server has stopped, by close() or on its own after a failure;
 * `failure` is undefined after a clean stop (stopped on request, every part closed without error).
 */
export interface RunningServer extends Resource {
  /** metrics: the metrics server's http://host:port, null when `metrics_server` is not configured */
  readonly addresses: { eventer: string[]; metrics: string | null };
  /** the file the backend keeps its data in (its module declares it), null for a backend without one */
  readonly dataPath: string | null;
  readonly engine: Engine;
}

export async function runServer(conf: ServerConf, opts: RunServerOptions = {}): Promise<RunningServer> {
  const prepared = await prepareServerConf(conf, { baseDir: opts.baseDir, source: opts.source });
  return startServer(prepared, opts.logger ?? createLogger(prepared.conf.log));
}

/** Starts from a configuration that `prepareServerConf` accepted. */
export async function startServer(prepared: PreparedConf, logger: Logger): Promise<RunningServer> {
  const { conf } = prepared;
  const log = logger.child('server');
  for (const warning of prepared.warnings) log.warning(warning);
  await checkPortFree(conf.eventer_server.address);
  if (conf.metrics_server !== undefined) await checkPortFree(conf.metrics_server.address, parseHttpAddress(conf.metrics_server.address));

  const { dataPathKey } = prepared.backend;
  const dataPath = dataPathKey !== undefined ? (conf.backend[dataPathKey] as string) : null;
  const undo: (() => Promise<void>)[] = [];
  // Only a configured metrics server gets figures: without one, every part counts into nothing.
  const metricsConf = conf.metrics_server;
  const registry = metricsConf !== undefined ? new MetricsRegistry() : null;
  const metrics: Metrics | undefined = registry ?? undefined;
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    let lock: DataLock | null = null;
    if (dataPath !== null) {
      await prepareDataDir(dataPath);
      lock = await acquireDataLock(dataPath);
      undo.push(() => lock!.close());
    }
    const inner = await openBackend(prepared, dataPath, logger.child('backend'), metrics);
    undo.push(() => inner.close());
    const reserving = dataPath !== null ? await ReservingBackend.open(inner, reservationFileOf(dataPath), conf.engine.server_id) : null;
    const backend: Backend = reserving ?? inner;
    logFlushes(backend, logger.child('backend'));

    const engine = await startEngine(conf.engine.server_id, prepared.modules, backend, { logger: logger.child('engine'), metrics });
    undo.push(() => engine.close());
    const eventer = await createEventerServer(engine, conf.eventer_server.address, {
      logger: logger.child('eventer'),
      pemFile: conf.eventer_server.pem_file,
      metrics,
    }).catch((err: NodeJS.ErrnoException) => {
      throw new StartupError(`cannot listen on ${conf.eventer_server.address}: ${err.code ?? err.message}`, { cause: err });
    });
    undo.push(() => eventer.close());
    let metricsServer: MetricsServer | null = null;
    if (registry !== null && metricsConf !== undefined) {
      const { address, max_flush_delay: maxFlushDelay = 30 } = metricsConf;
      metricsServer = await startMetricsServer(address, {
        registry,
        health: () => serverHealth({ engine, backend: inner, maxFlushDelay }),
        logger: logger.child('metrics'),
      }).catch((err: NodeJS.ErrnoException) => {
        throw new StartupError(`cannot listen on ${address}: ${err.code ?? err.message}`, { cause: err });
      });
    }

    const server = new Server({ engine, eventer, backend, inner, reserving, lock, metricsServer, dataPath, log });
    log.info('server started', {
      server_id: conf.engine.server_id,
      backend: conf.backend.module,
      modules: conf.engine.modules.map((m) => m.module),
      data: dataPath,
    });
    // Listening is the last line of a start: whoever waits for it has seen the rest.
    if (dataPath !== null) log.info('data stored in', { db_path: dataPath });
    if (metricsServer !== null) log.info('metrics server listening', { address: metricsServer.address });
    for (const address of eventer.addresses) log.info('eventer server listening', { address });
    return server;
  } catch (err) {
    await unwind();
    throw err;
  }
}

async function openBackend(prepared: PreparedConf, dataPath: string | null, logger: Logger, metrics: Metrics | undefined): Promise<Backend> {
  try {
    return await prepared.backend.create(prepared.conf.backend, { logger, metrics });
  } catch (err) {
    const where = dataPath !== null ? `the database ${dataPath}` : `the backend ${prepared.conf.backend.module}`;
    throw new StartupError(`cannot open ${where}: ${describeError(err)}`, { cause: err });
  }
}

/** Debug: what each flush made durable (coalesced per flush; logged after the commit). */
function logFlushes(backend: Backend, log: Logger): void {
  if (!log.isEnabled('debug')) return;
  let batch: { sessions: number; events: number; last: Event } | null = null;
  backend.onFlushed((events) => {
    if (events.length === 0) return;
    if (batch === null) {
      batch = { sessions: 0, events: 0, last: events[0]! };
      setImmediate(() => {
        const b = batch!;
        batch = null;
        log.debug('flushed', { sessions: b.sessions, events: b.events, last_id: eventIdKey(b.last.id) });
      });
    }
    batch.sessions += 1;
    batch.events += events.length;
    batch.last = events[events.length - 1]!;
  });
}

/** What a started server is made of, closed in this order: eventer, engine, backend, lock, metrics server. */
interface Parts {
  engine: Engine;
  eventer: EventerServer;
  /** what the engine stores into (the reservation's wrapper, if any) */
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

class Server extends ResourceBase implements RunningServer {
  readonly addresses: { eventer: string[]; metrics: string | null };
  readonly #parts: Parts;

  constructor(parts: Parts) {
    super();
    this.#parts = parts;
    this.addresses = { eventer: [...parts.eventer.addresses], metrics: parts.metricsServer?.address ?? null };
    // closing on their own (a module failure, a failed background flush) stops the server
    this.lifecycle.adopt(parts.engine, (e) => e.failure ?? new Error('the engine closed on its own'));
    if (isResource(parts.inner)) this.lifecycle.adopt(parts.inner, (b) => b.failure ?? new Error('the backend closed on its own'));
  }

  get engine(): Engine {
    return this.#parts.engine;
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
    const { eventer, engine, backend, reserving, lock, metricsServer, log } = this.#parts;
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
    await step('eventer server', () => eventer.close(), eventer);
    await step('engine', () => engine.close(), engine);
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
