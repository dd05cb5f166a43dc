// The engine: turns register requests into sessions, one at a time. The main thread owns ids, the
// session timestamp and the backend; modules only compute outputs (see session.ts).
import type { Event, EventId, QueryData, RegisterEvent, Source } from '../common/types.ts';
import { now } from '../common/timestamp.ts';
import type { Backend } from '../backends/backend.ts';
import { encodedEvents, type EncodedEvents } from '../backends/encoded-events.ts';
import type { Engine, EngineConf, ModuleEngine } from './types.ts';
import type { ModuleHost } from './hosts/module-host.ts';
import { clocksNeeded, createHosts } from './hosts/placement.ts';
import type { RoundBarrier } from './threads/round-barrier.ts';
import { Watchdog } from './watchdog.ts';
import { checkModuleEntry, prepareModules, type PreparedModule } from './modules.ts';
import { runSession } from './session.ts';
import { EngineClosedError } from './errors.ts';
import { describeError } from '../common/describe-error.ts';
import { ResourceBase, asError } from '../common/resource.ts';
import { registerEventProblem, sift } from '../common/event-check.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { noMetrics, type Metrics } from '../common/metrics.ts';
import { EngineMetrics, type RoundMetrics } from './engine-metrics.ts';

const ENGINE_SOURCE: Source = { type: 'engine', id: 0 };
const ENGINE_EVENT_TYPE = ['event', 'engine'];
/** Bounds what a slow durable store holds back (each waiting store holds one request). */
const MAX_STORES_IN_FLIGHT = 1024;

interface Request {
  source: Source;
  events: RegisterEvent[];
  resolve: (result: (Event | null)[]) => void;
  reject: (error: Error) => void;
  /** performance.now() when it was queued */
  at: number;
}

/** A session whose modules are done, waiting to be stored. */
interface Finished {
  request: Request;
  events: Event[];
}

export interface EngineOptions {
  /** Folder that relative module paths resolve against (the config file's folder). */
  baseDir?: string;
  /** Where refused events and a failing events callback are reported. Default: nowhere. */
  logger?: Logger;
  /** Where sessions, events, latency, the queue and the modules' rounds are counted. Default: nowhere. */
  metrics?: Metrics;
}

export async function createEngine(conf: EngineConf, backend: Backend, opts: EngineOptions = {}): Promise<Engine> {
  if (!Number.isInteger(conf?.server_id) || conf.server_id < 0)
    throw new Error(`engine.server_id must be a non-negative integer, got ${JSON.stringify(conf?.server_id)}`);
  if (!Array.isArray(conf.modules)) throw new Error('engine.modules must be an array');
  conf.modules.forEach((entry, index) => checkModuleEntry(index, entry));
  const baseDir = opts.baseDir ?? process.cwd();
  return launch(conf.server_id, backend, opts, () => prepareModules(conf.modules, baseDir));
}

/** An engine over modules that were prepared already (the server prepares them with its configuration). */
export function startEngine(serverId: number, modules: readonly PreparedModule[], backend: Backend, opts: EngineOptions = {}): Promise<Engine> {
  return launch(serverId, backend, opts, async () => modules);
}

async function launch(
  serverId: number,
  backend: Backend,
  opts: EngineOptions,
  modules: () => Promise<readonly PreparedModule[]>,
): Promise<Engine> {
  const logger = opts.logger ?? silentLogger();
  const engine = new SessionEngine(backend, await backend.getLastEventId(serverId), logger, opts.metrics ?? noMetrics());
  // Queued before the modules exist, as in Hat; nobody awaits it.
  engine
    .register(ENGINE_SOURCE, [{ type: ENGINE_EVENT_TYPE, sourceTimestamp: null, payload: { type: 'json', data: 'STARTED' } }])
    .catch(() => {});
  try {
    const prepared = await modules();
    const watchdog = new Watchdog(logger, clocksNeeded(prepared));
    const { hosts, barrier } = await createHosts(prepared, { engine: engine.moduleEngine, watchdog, logger });
    engine.start(hosts, barrier, watchdog);
    await watchdog.start(); // before any session, so none goes unwatched
  } catch (error) {
    await engine.fail(error);
    throw error;
  }
  engine.run();
  return engine;
}

class SessionEngine extends ResourceBase implements Engine {
  readonly moduleEngine: ModuleEngine = {
    register: (source, events) => this.register(source, events),
    query: (data) => this.query(data),
  };
  readonly #backend: Backend;
  readonly #last: EventId;
  readonly #logger: Logger;
  readonly #queue: Request[] = [];
  readonly #callbacks = new Set<(events: Event[]) => void>();
  readonly #metrics: EngineMetrics;
  #hosts: readonly ModuleHost[] = [];
  #barrier: RoundBarrier | null = null;
  #rounds: readonly RoundMetrics[] = [];
  #watchdog: Watchdog | null = null;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  /** The latest store (settles true/false, never rejects): queries wait for it. */
  #storing: Promise<boolean> = Promise.resolve(true);
  /** Stores whose backend call has not resolved (a durable backend commits them together). */
  #inFlight = 0;
  #storeRoom: (() => void) | null = null;

  constructor(backend: Backend, last: EventId, logger: Logger, metrics: Metrics) {
    super();
    this.#backend = backend;
    this.#last = last;
    this.#logger = logger;
    this.#metrics = new EngineMetrics(metrics, () => this.#queue.length);
  }

  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]> {
    if (!this.isOpen) return Promise.reject(new EngineClosedError(this.failure));
    if (!Array.isArray(events)) return Promise.reject(new TypeError('register expects an array of events'));
    if (events.length === 0) return Promise.resolve([]);
    // An invalid event is refused on its own (null); it must not fail the session or the backend.
    const sifted = sift(events, registerEventProblem);
    if (sifted.refused.length > 0) {
      for (const { index, reason } of sifted.refused) this.#logger.warning('event refused', { source: `${source.type} ${source.id}`, index, reason });
      const registered = sifted.kept.length > 0 ? this.register(source, sifted.kept) : Promise.resolve([]);
      return registered.then((results) => sifted.spread(results));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ source, events, resolve, reject, at: performance.now() });
      this.#wake?.();
    });
  }

  query(data: QueryData): Promise<Event[]> {
    if (!this.isOpen) return Promise.reject(new EngineClosedError(this.failure));
    // After the session being stored: a module querying during session N sees session N-1.
    return this.#storing.then(() => this.#backend.query(data));
  }

  queryEncoded(data: QueryData): Promise<EncodedEvents> {
    if (!this.isOpen) return Promise.reject(new EngineClosedError(this.failure));
    const backend = this.#backend;
    return this.#storing.then(() => backend.queryEncoded?.(data) ?? backend.query(data).then(encodedEvents));
  }

  onEvents(cb: (events: Event[]) => void): () => void {
    this.#callbacks.add(cb);
    return () => this.#callbacks.delete(cb);
  }

  /** The hosts are the engine's from now on: one closing on its own closes the engine. */
  start(hosts: readonly ModuleHost[], barrier: RoundBarrier, watchdog: Watchdog): void {
    this.#hosts = hosts;
    this.#barrier = barrier;
    this.#rounds = this.#metrics.modules(hosts);
    this.#watchdog = this.lifecycle.adopt(watchdog);
    for (const host of hosts) this.lifecycle.adopt(host, true);
  }

  /** Sessions start running. */
  run(): void {
    // After createEngine resolves, so callbacks added right away still see STARTED.
    setImmediate(() => {
      if (this.isOpen) this.#loop = this.#runLoop();
    });
  }

  beginStop(): void {
    this.#watchdog?.beginStop();
  }

  /** The engine closes on its own: a module failed or closed, or the backend failed. */
  fail(reason: unknown): Promise<void> {
    return this.lifecycle.fail(reason);
  }

  /**
   * Sessions run one after another, but a session is stored while the next one's modules work: the
   * backend write (and the caller's response) overlaps the thread round trips. Stores are not
   * waited for: while a durable backend commits, the next sessions run and are handed to it, and it
   * commits them together (up to MAX_STORES_IN_FLIGHT wait at once). Ids, order and what each
   * module sees stay those of sequential execution; queries wait for the latest store.
   */
  async #runLoop(): Promise<void> {
    let done: Finished | null = null; // modules finished, not yet stored
    while (this.isOpen) {
      const request = this.#queue.shift();
      if (!request) {
        if (done) {
          this.#store(done);
          done = null;
          continue;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = null;
        continue;
      }
      // The rounds go out first (runSession posts them synchronously), then the store starts.
      const listen = this.#listen;
      const session = runSession(this.#hosts, this.#rounds, this.#last, request.source, request.events, listen);
      if (done) this.#store(done);
      done = null;
      listen(); // for the first round's answers, after the store has started
      try {
        done = { request, events: await session };
      } catch (error) {
        const reason = asError(error);
        request.reject(new EngineClosedError(reason));
        void this.fail(reason);
        return;
      }
      while (this.#inFlight >= MAX_STORES_IN_FLIGHT && this.isOpen) await new Promise<void>((resolve) => (this.#storeRoom = resolve));
    }
    if (!done) return;
    if (this.failure) done.request.reject(new EngineClosedError(this.failure));
    else this.#store(done);
  }

  /** Listens briefly for the answers of the round just handed out (round-barrier.ts). */
  readonly #listen = (): void => this.#barrier?.listen();

  /** Hands a finished session to the backend and answers its caller when that resolves. */
  #store(finished: Finished): void {
    let registering: Promise<(Event | null)[]>;
    try {
      registering = this.#backend.register(finished.events);
    } catch (error) {
      registering = Promise.reject(error);
    }
    this.#inFlight++;
    this.#storing = registering.then(
      (results) => {
        this.#answer(finished.request, results);
        return true;
      },
      (error: unknown) => {
        const reason = asError(error);
        finished.request.reject(new EngineClosedError(reason));
        void this.fail(reason);
        return false;
      },
    ).finally(() => {
      this.#inFlight--;
      this.#wakeStoreRoom();
    });
  }

  #wakeStoreRoom(): void {
    const wake = this.#storeRoom;
    this.#storeRoom = null;
    wake?.();
  }

  /** One session outside the loop; a module failing in it is logged, the close goes on. */
  async #runAlone(request: Request): Promise<void> {
    let events;
    try {
      events = await runSession(this.#hosts, this.#rounds, this.#last, request.source, request.events);
    } catch (error) {
      this.#logger.warning(`engine: the session of the engine's STARTED failed while closing: ${describeError(error)}`);
      request.reject(new EngineClosedError(asError(error)));
      return;
    }
    this.#store({ request, events });
    await this.#storing;
  }

  #answer(request: Request, results: (Event | null)[]): void {
    const own = request.events.length;
    request.resolve(results.slice(0, own));
    // Synchronously after resolving: the caller's continuation runs after the callbacks (as in Hat),
    // so an eventer client gets its notification before its register response.
    const registered = results.filter((e): e is Event => e !== null);
    let ownRegistered = 0;
    for (let i = 0; i < own; i++) if (results[i] !== null) ownRegistered++;
    this.#metrics.registered(request.source.type, ownRegistered, registered.length - ownRegistered, (performance.now() - request.at) / 1000);
    if (registered.length === 0) return;
    for (const cb of this.#callbacks) {
      try {
        cb(registered);
      } catch (error) {
        this.#logger.warning(`engine events callback failed: ${describeError(error)}`);
      }
    }
  }

  /** Runs once, on close or failure; the hosts close after it (they are adopted). */
  protected override async teardown(failure: Error | undefined): Promise<void> {
    const closedError = new EngineClosedError(this.failure);
    const queued = this.#queue.splice(0);
    // Closed before its loop first ran (a stop asked for during the start): its own STARTED is
    // still stored before STOPPED, as after any other clean start.
    const started = failure === undefined && this.#loop === null ? queued.find((r) => r.source === ENGINE_SOURCE) : undefined;
    for (const request of queued) if (request !== started) request.reject(closedError);
    this.#wake?.();
    this.#wakeStoreRoom();
    this.beginStop();
    // A normal close lets the session in progress finish, but for a module thread stuck in it (the
    // watchdog terminates it); a failure has ended it.
    await this.#loop;
    if (started) await this.#runAlone(started);
    const last = this.#last;
    const stopped: Event = {
      id: { server: last.server, session: last.session, instance: last.instance + 1 },
      type: ENGINE_EVENT_TYPE,
      timestamp: now(),
      sourceTimestamp: null,
      payload: { type: 'json', data: 'STOPPED' },
    };
    await this.#backend.register([stopped]);
    const interrupted = this.#watchdog?.interrupted;
    if (interrupted) throw interrupted; // STOPPED is stored, but the stop was not clean
  }
}
