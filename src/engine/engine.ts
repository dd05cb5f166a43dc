// The engine: turns register requests into sessions, one at a time. The main thread owns ids, the
// session timestamp and the backend; modules only compute outputs (see session.ts).
import type { Event, EventId, QueryData, RegisterEvent, Source } from '../common/types.ts';
import { now } from '../common/timestamp.ts';
import type { Backend } from '../backends/backend.ts';
import type { Engine, EngineConf, ModuleEngine } from './types.ts';
import type { ModuleHost } from './module-host.ts';
import { checkModuleConf, createHosts } from './hosts.ts';
import { runSession } from './session.ts';
import { EngineClosedError, describeError } from './errors.ts';
import { registerEventProblem, sift } from '../common/event-check.ts';
import { silentLogger, type Logger } from '../common/logger.ts';

const ENGINE_SOURCE: Source = { type: 'engine', id: 0 };
const ENGINE_EVENT_TYPE = ['event', 'engine'];

interface Request {
  source: Source;
  events: RegisterEvent[];
  resolve: (result: (Event | null)[]) => void;
  reject: (error: Error) => void;
}

/** A session whose modules are done, waiting to be stored. */
interface Finished {
  request: Request;
  events: Event[];
}

export interface EngineOptions {
  /** Folder that relative module paths resolve against (the config file's folder). */
  baseDir?: string;
  /** Where refused events are reported. */
  logger?: Logger;
}

export async function createEngine(conf: EngineConf, backend: Backend, opts: EngineOptions = {}): Promise<Engine> {
  if (!Number.isInteger(conf?.server_id) || conf.server_id < 0)
    throw new Error(`engine.server_id must be a non-negative integer, got ${JSON.stringify(conf?.server_id)}`);
  if (!Array.isArray(conf.modules)) throw new Error('engine.modules must be an array');
  conf.modules.forEach((m, i) => checkModuleConf(i, m));

  const engine = new SessionEngine(backend, await backend.getLastEventId(conf.server_id), opts.logger ?? silentLogger());
  // Queued before the modules exist, as in Hat; nobody awaits it.
  engine
    .register(ENGINE_SOURCE, [{ type: ENGINE_EVENT_TYPE, sourceTimestamp: null, payload: { type: 'json', data: 'STARTED' } }])
    .catch(() => {});
  let hosts: ModuleHost[];
  try {
    hosts = await createHosts(conf.modules, engine.moduleEngine, opts.baseDir ?? process.cwd());
  } catch (error) {
    await engine.fail(error instanceof Error ? error : new Error(describeError(error)));
    throw error;
  }
  // Start after createEngine resolves, so callbacks added right away still see STARTED.
  setImmediate(() => engine.start(hosts));
  return engine;
}

class SessionEngine implements Engine {
  readonly closed: Promise<void>;
  failure: Error | undefined = undefined;
  readonly moduleEngine: ModuleEngine = {
    register: (source, events) => this.register(source, events),
    query: (data) => this.query(data),
  };
  private readonly queue: Request[] = [];
  private readonly callbacks = new Set<(events: Event[]) => void>();
  private hosts: ModuleHost[] = [];
  private wake: (() => void) | null = null;
  private accepting = true;
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private resolveClosed!: () => void;
  /** The store in flight (settles true/false, never rejects). */
  private storing: Promise<boolean> = Promise.resolve(true);

  constructor(
    private readonly backend: Backend,
    private readonly last: EventId,
    private readonly log: Logger,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]> {
    if (!this.accepting) return Promise.reject(new EngineClosedError(this.failure));
    if (!Array.isArray(events)) return Promise.reject(new TypeError('register expects an array of events'));
    if (events.length === 0) return Promise.resolve([]);
    // An invalid event is refused on its own (null); it must not fail the session or the backend.
    const sifted = sift(events, registerEventProblem);
    if (sifted.refused.length > 0) {
      for (const { index, reason } of sifted.refused) this.log.warning('event refused', { source: `${source.type} ${source.id}`, index, reason });
      const registered = sifted.kept.length > 0 ? this.register(source, sifted.kept) : Promise.resolve([]);
      return registered.then((results) => sifted.spread(results));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ source, events, resolve, reject });
      this.wake?.();
    });
  }

  query(data: QueryData): Promise<Event[]> {
    if (!this.accepting) return Promise.reject(new EngineClosedError(this.failure));
    // After the session being stored: a module querying during session N sees session N-1.
    return this.storing.then(() => this.backend.query(data));
  }

  onEvents(cb: (events: Event[]) => void): () => void {
    this.callbacks.add(cb);
    return () => this.callbacks.delete(cb);
  }

  start(hosts: ModuleHost[]): void {
    this.hosts = hosts;
    if (!this.accepting) return; // closed before the loop could start
    for (const host of hosts) host.closed.then((reason) => this.fail(reason));
    this.loop = this.runLoop();
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** The engine closes on its own: a module failed or closed. */
  fail(reason: Error): Promise<void> {
    if (this.accepting) this.failure = reason;
    return this.stop();
  }

  /**
   * Sessions run one after another, but a session is stored while the next one's modules work: the
   * backend write (and the caller's response) overlaps the thread round trips. Ids, order and what
   * each module sees stay those of sequential execution; queries wait for the store in flight.
   */
  private async runLoop(): Promise<void> {
    let done: Finished | null = null; // modules finished, not yet stored
    while (this.accepting) {
      const request = this.queue.shift();
      if (!request) {
        if (done) {
          await this.store(done);
          done = null;
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      // The rounds go out first (runSession posts them synchronously), then the store starts.
      const session = runSession(this.hosts, this.last, request.source, request.events);
      const storing = done ? this.store(done) : null;
      done = null;
      try {
        done = { request, events: await session };
      } catch (error) {
        const reason = error instanceof Error ? error : new Error(describeError(error));
        request.reject(new EngineClosedError(reason));
        await storing;
        void this.fail(reason);
        return;
      }
      if (storing && !(await storing)) {
        done.request.reject(new EngineClosedError(this.failure));
        return;
      }
    }
    if (done) await this.store(done);
  }

  /** Stores a finished session and answers its caller; false (engine failing) if the backend failed. */
  private store(finished: Finished): Promise<boolean> {
    const stored = this.backend.register(finished.events).then(
      (results) => {
        this.answer(finished.request, results);
        return true;
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error : new Error(describeError(error));
        finished.request.reject(new EngineClosedError(reason));
        void this.fail(reason);
        return false;
      },
    );
    this.storing = stored;
    return stored;
  }

  private answer(request: Request, results: (Event | null)[]): void {
    request.resolve(results.slice(0, request.events.length));
    // Synchronously after resolving: the caller's continuation runs after the callbacks (as in Hat),
    // so an eventer client gets its notification before its register response.
    const registered = results.filter((e): e is Event => e !== null);
    if (registered.length === 0) return;
    for (const cb of this.callbacks) {
      try {
        cb(registered);
      } catch (error) {
        process.emitWarning(`engine events callback failed: ${describeError(error)}`);
      }
    }
  }

  private stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.accepting = false;
    const closedError = new EngineClosedError(this.failure);
    for (const request of this.queue.splice(0)) request.reject(closedError);
    this.wake?.();
    await this.loop; // a normal close lets the session in progress finish; a failure has ended it
    try {
      const stopped: Event = {
        id: { server: this.last.server, session: this.last.session, instance: this.last.instance + 1 },
        type: ENGINE_EVENT_TYPE,
        timestamp: now(),
        sourceTimestamp: null,
        payload: { type: 'json', data: 'STOPPED' },
      };
      await this.backend.register([stopped]);
    } finally {
      await Promise.allSettled(this.hosts.map((host) => host.close()));
      this.resolveClosed();
    }
  }
}
