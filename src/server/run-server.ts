// The server: backend -> engine -> eventer server, started in that order and stopped in the
// reverse (eventer server, engine with its STOPPED event, backend with its final flush).
import type { Backend } from '../backends/backend.ts';
import { eventIdKey } from '../common/event-id.ts';
import { createEngine, type Engine } from '../engine/index.ts';
import { createEventerServer, type EventerServer, type EventerServerOptions } from '../eventer/server.ts';
import type { Event } from '../common/types.ts';
import type { EventerServerConf, ServerConf } from './conf-types.ts';
import { prepareServerConf, type PreparedConf } from './config.ts';
import { acquireDataLock, type DataLock } from './data-lock.ts';
import { createLogger, type Logger } from './logger.ts';
import { ReservingBackend, reservationFileOf } from './session-reservation.ts';
import { checkPortFree, prepareDataDir, StartupError } from './startup-checks.ts';
import { describeError } from '../common/describe-error.ts';
import { rateLimitedLogger } from '../common/rate-limited-logger.ts';

export interface RunServerOptions {
  /** relative paths in `conf` resolve against this folder; default the working directory */
  baseDir?: string;
  /** names the configuration in error messages */
  source?: string;
  /** default: a logger configured by `conf.log`, writing to stderr */
  logger?: Logger;
}

export interface ServerStop {
  /** stopped on request, and every resource closed without error */
  clean: boolean;
  /** why it was not clean */
  reason?: Error;
}

export interface RunningServer {
  readonly addresses: { eventer: string[] };
  /** where the data lives (LMDB file), null for a backend without a file */
  readonly dataPath: string | null;
  readonly engine: Engine;
  /** settles once the server has stopped: by close(), or on its own after a failure */
  readonly closed: Promise<ServerStop>;
  close(): Promise<void>;
}

export async function runServer(conf: ServerConf, opts: RunServerOptions = {}): Promise<RunningServer> {
  const prepared = await prepareServerConf(conf, { baseDir: opts.baseDir, source: opts.source });
  return startServer(prepared, opts.logger ?? createLogger(prepared.conf.log));
}

/** Starts from a configuration that `prepareServerConf` accepted. */
export async function startServer(prepared: PreparedConf, logger: Logger): Promise<RunningServer> {
  const { conf, baseDir } = prepared;
  const log = logger.child('server');
  for (const warning of prepared.warnings) log.warning(warning);
  await checkPortFree(conf.eventer_server.address);

  const dbPath = prepared.backendName === 'lmdb' ? (conf.backend['db_path'] as string) : null;
  const undo: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    let lock: DataLock | null = null;
    if (dbPath !== null) {
      await prepareDataDir(dbPath);
      lock = await acquireDataLock(dbPath);
      undo.push(() => lock!.release());
    }
    const inner = await openBackend(prepared, dbPath, logger);
    undo.push(() => inner.close());
    const reserving = dbPath !== null ? await ReservingBackend.open(inner, reservationFileOf(dbPath), conf.engine.server_id) : null;
    const backend: Backend = reserving ?? inner;
    logFlushes(backend, logger.child('backend'));

    const engine = await createEngine(conf.engine, backend, { baseDir, logger: rateLimitedLogger(logger.child('engine')) });
    undo.push(() => engine.close());
    const eventer = await createEventerServer(engine, conf.eventer_server.address, {
      logger: logger.child('eventer'),
      ...eventerServerOptions(conf.eventer_server),
    }).catch((err: NodeJS.ErrnoException) => {
      throw new StartupError(`cannot listen on ${conf.eventer_server.address}: ${err.code ?? err.message}`, { cause: err });
    });

    const server = new Server(engine, eventer, backend, inner, reserving, lock, dbPath, log);
    log.info('server started', {
      server_id: conf.engine.server_id,
      backend: conf.backend.module,
      modules: conf.engine.modules.map((m) => m.module),
      data: dbPath,
    });
    // Listening is the last line of a start: whoever waits for it has seen the rest.
    if (dbPath !== null) log.info('data stored in', { db_path: dbPath });
    for (const address of eventer.addresses) log.info('eventer server listening', { address });
    return server;
  } catch (err) {
    await unwind();
    throw err;
  }
}

async function openBackend(prepared: PreparedConf, dbPath: string | null, logger: Logger): Promise<Backend> {
  try {
    return await prepared.backend.create(prepared.conf.backend, { logger: rateLimitedLogger(logger.child('backend')) });
  } catch (err) {
    const where = dbPath !== null ? `the database ${dbPath}` : `the backend ${prepared.conf.backend.module}`;
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

class Server implements RunningServer {
  readonly addresses: { eventer: string[] };
  readonly closed: Promise<ServerStop>;
  #stopping: Promise<void> | null = null;
  #resolveClosed!: (stop: ServerStop) => void;

  constructor(
    readonly engine: Engine,
    private readonly eventer: EventerServer,
    private readonly backend: Backend,
    inner: Backend,
    private readonly reserving: ReservingBackend | null,
    private readonly lock: DataLock | null,
    readonly dataPath: string | null,
    private readonly log: Logger,
  ) {
    this.addresses = { eventer: [...eventer.addresses] };
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    // closing on their own (a module failure, a failed background flush) stops the server
    void engine.closed.then(() => {
      if (this.#stopping === null) void this.#stop(engine.failure ?? new Error('the engine closed on its own'));
    });
    void inner.closed?.then(() => {
      if (this.#stopping === null) void this.#stop(new Error('the backend closed on its own'));
    });
  }

  close(): Promise<void> {
    return this.#stop(undefined);
  }

  #stop(failure: Error | undefined): Promise<void> {
    this.#stopping ??= this.#shutdown(failure);
    return this.#stopping;
  }

  async #shutdown(failure: Error | undefined): Promise<void> {
    if (failure) this.log.error('stopping after a failure', { error: failure });
    else this.log.info('stopping');
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

  async #closeAll(failure: Error | undefined): Promise<void> {
    const errors: Error[] = [];
    const step = async (what: string, action: () => Promise<void>): Promise<void> => {
      try {
        await action();
        this.log.debug(`${what} closed`);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        errors.push(error);
        this.log.error(`closing the ${what} failed`, { error });
      }
    };
    await step('eventer server', () => this.eventer.close());
    await step('engine', () => this.engine.close());
    const engineFailure = failure ?? this.engine.failure;
    await step('backend', () => this.backend.close()); // final flush
    if (this.reserving !== null && engineFailure === undefined && errors.length === 0) {
      await step('session reservation', () => this.reserving!.settle());
    }
    await this.lock?.release();
    const reason = engineFailure ?? errors[0];
    this.log.info('stopped', { clean: reason === undefined });
    this.#resolveClosed(reason === undefined ? { clean: true } : { clean: false, reason });
  }
}
