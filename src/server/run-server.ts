// The server: backend -> engine -> eventer server, started in that order and stopped in the
// reverse (eventer server, engine with its STOPPED event, backend with its final flush).
import type { Backend } from '../backends/backend.ts';
import { eventIdKey } from '../common/event-id.ts';
import { startEngine } from '../engine/engine.ts';
import type { Engine } from '../engine/types.ts';
import { createEventerServer, type EventerServer, type EventerServerOptions } from '../eventer/server.ts';
import type { Event } from '../common/types.ts';
import type { EventerServerConf, ServerConf } from '../config/server-conf.ts';
import { prepareServerConf, type PreparedConf } from '../config/prepare.ts';
import { acquireDataLock, type DataLock } from '../backends/data-lock.ts';
import { createLogger, type Logger } from './logger.ts';
import { ReservingBackend, reservationFileOf } from '../backends/session-reservation.ts';
import { checkPortFree, prepareDataDir, StartupError } from './startup-checks.ts';
import { describeError } from '../common/describe-error.ts';
import { ResourceBase, asError, type Resource } from '../common/resource.ts';
import { rateLimitedLogger } from '../common/rate-limited-logger.ts';

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
  readonly addresses: { eventer: string[] };
  /** the file the backend keeps its data in (its module declares it), null for a backend without one */
  readonly dataPath: string | null;
  readonly engine: Engine;
}

export async function runServer(conf: ServerConf, opts: RunServerOptions = {}): Promise<RunningServer> {
  const prepared = await prepareServerConf(conf, { baseDir: opts.baseDir, source: opts.source });
  return startServer(prepared, opts.logger ?? createLogger(prepared.conf.log));
}

/**
 * Starts from a configuration that `prepareServerConf` accepted. Everything the server logs goes
 * through one flood control, so no client can fill the disk by misbehaving (rate-limited-logger.ts).
 */
export async function startServer(prepared: PreparedConf, root: Logger): Promise<RunningServer> {
  const { conf } = prepared;
  const logger = rateLimitedLogger(root);
  const log = logger.child('server');
  for (const warning of prepared.warnings) log.warning(warning);
  await checkPortFree(conf.eventer_server.address);

  const { dataPathKey } = prepared.backend;
  const dataPath = dataPathKey !== undefined ? (conf.backend[dataPathKey] as string) : null;
  const undo: (() => Promise<void>)[] = [];
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
    const inner = await openBackend(prepared, dataPath, logger.child('backend'));
    undo.push(() => inner.close());
    const reserving = dataPath !== null ? await ReservingBackend.open(inner, reservationFileOf(dataPath), conf.engine.server_id, logger.child('backend')) : null;
    const backend: Backend = reserving ?? inner;
    logFlushes(backend, logger.child('backend'));

    const engine = await startEngine(conf.engine.server_id, prepared.modules, backend, { logger: logger.child('engine') });
    undo.push(() => engine.close());
    const eventer = await createEventerServer(engine, conf.eventer_server.address, {
      logger: logger.child('eventer'),
      ...eventerServerOptions(conf.eventer_server),
    }).catch((err: NodeJS.ErrnoException) => {
      throw new StartupError(`cannot listen on ${conf.eventer_server.address}: ${err.code ?? err.message}`, { cause: err });
    });

    const server = new Server({ engine, eventer, backend, inner, reserving, lock, dataPath, log });
    log.info('server started', {
      server_id: conf.engine.server_id,
      backend: conf.backend.module,
      modules: conf.engine.modules.map((m) => m.module),
      data: dataPath,
    });
    // Listening is the last line of a start: whoever waits for it has seen the rest.
    if (dataPath !== null) log.info('data stored in', { db_path: dataPath });
    for (const address of eventer.addresses) log.info('eventer server listening', { address });
    return server;
  } catch (err) {
    await unwind();
    throw err;
  }
}

async function openBackend(prepared: PreparedConf, dataPath: string | null, logger: Logger): Promise<Backend> {
  try {
    return await prepared.backend.create(prepared.conf.backend, { logger });
  } catch (err) {
    const where = dataPath !== null ? `the database ${dataPath}` : `the backend ${prepared.conf.backend.module}`;
    throw new StartupError(`cannot open ${where}: ${describeError(err)}`, { cause: err });
  }
}

/** eventer_server's keys as the listener's options (absent ones take the library defaults). */
function eventerServerOptions(c: EventerServerConf): EventerServerOptions {
  return {
    pemFile: c.pem_file, caFile: c.ca_file, requireClientCertificate: c.require_client_certificate,
    allowedClients: c.allowed_clients, allowReservedTypes: c.allow_reserved_types, maxConnections: c.max_connections,
    maxFrameSize: c.max_frame_size, maxInputBytes: c.max_input_bytes, maxOutputBytes: c.max_output_bytes,
    maxJsonDepth: c.max_json_depth,
  };
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

/** What a started server is made of, closed in this order: eventer, engine, backend, lock. */
interface Parts {
  engine: Engine;
  eventer: EventerServer;
  /** what the engine stores into (the reservation's wrapper, if any) */
  backend: Backend;
  /** the backend module's own backend */
  inner: Backend;
  reserving: ReservingBackend | null;
  lock: DataLock | null;
  dataPath: string | null;
  log: Logger;
}

class Server extends ResourceBase implements RunningServer {
  readonly addresses: { eventer: string[] };
  readonly #parts: Parts;

  constructor(parts: Parts) {
    super();
    this.#parts = parts;
    this.addresses = { eventer: [...parts.eventer.addresses] };
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
    const { eventer, engine, backend, reserving, lock, log } = this.#parts;
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
    const reason = failure ?? errors[0];
    log.info('stopped', { clean: reason === undefined });
    if (failure === undefined && reason !== undefined) throw reason;
  }
}

function isResource(backend: Backend): backend is Backend & Resource {
  return backend.closed !== undefined;
}
