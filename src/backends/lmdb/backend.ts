// The LMDB backend resource: register/query over the store, the flush loop (every
// flush_period seconds; 0 = each register is durable before it resolves), the limits
// cleanup loop, flushed callbacks, and close (final flush, then the env closes).
import { now } from '../../common/timestamp.ts';
import type { Event, EventId, QueryData, Timestamp } from '../../common/types.ts';
import type { Backend, BackendDeps, BackendModule, FlushStatus } from '../backend.ts';
import type { EncodedEvents } from '../encoded-events.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { noMetrics, type Histogram } from '../../common/metrics.ts';
import { reportLmdbMetrics } from './metrics.ts';
import { ResourceBase } from '../../common/resource.ts';
import { assertLmdbConf, confSchema, DEFAULT_MAX_QUERY_RESULTS, type LmdbBackendConf } from './conf.ts';
import { flushPending } from './flush.ts';
import { applyLimits } from './limits.ts';
import { LmdbQueries } from './query.ts';
import { ReaderPool } from './readers/reader-pool.ts';
import { queryFlushed } from './refs.ts';
import { LmdbStore } from './store.ts';

export interface LmdbBackendOptions extends BackendDeps {
  /** run the limits cleanup at open and on every period (default true; tests turn it off) */
  cleanup?: boolean;
  /** entries a query may read on the main thread (query.ts MAIN_THREAD_BUDGET; tests use 0: all on readers) */
  mainThreadBudget?: number;
  /** reader threads (default: the machine's parallelism) */
  readerThreads?: number;
}

/** A Resource: it closes by `close()` (final flush, then the env closes) or after a failed background task. */
export class LmdbBackend extends ResourceBase implements Backend {
  readonly store: LmdbStore;
  readonly #periodMs: number;
  readonly #flushedCbs = new Set<(events: Event[]) => void>();
  readonly #logger: Logger;
  readonly #readers: ReaderPool;
  readonly #queries: LmdbQueries;
  readonly #flushDuration: Histogram;
  /** events taken by the flush in progress */
  #flushing = 0;
  /** performance.now() when the oldest unflushed event was registered (at most), null when none waits */
  #pendingSince: number | null = null;
  /** performance.now() of the last flush that wrote events (the open, before the first) */
  #lastFlushAt = performance.now();
  #lock: Promise<unknown> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #envClosed = false;

  constructor(store: LmdbStore, conf: LmdbBackendConf, options: LmdbBackendOptions) {
    super();
    this.store = store;
    this.#logger = options.logger ?? silentLogger();
    this.#flushDuration = reportLmdbMetrics(options.metrics ?? noMetrics(), this);
    this.#periodMs = conf.flush_period * 1000;
    this.#readers = new ReaderPool(store.env, conf.conditions, this.#logger, options.readerThreads);
    store.env.commitObserver = this.#readers;
    this.#queries = new LmdbQueries(store, this.#readers, {
      maxResults: conf.max_query_results ?? DEFAULT_MAX_QUERY_RESULTS,
      mainThreadBudget: options.mainThreadBudget,
    });
    if (this.#periodMs > 0) this.#every(this.#periodMs, () => this.flush());
    // Always on: the reserved archive partition (archive.ts) has a limit even when no
    // configured partition has one.
    if (options.cleanup !== false) {
      void this.applyLimits(now()).catch((err) => this.#backgroundFailure(err));
      this.#every(Math.max(this.#periodMs, 1000), () => this.applyLimits(now()));
    }
  }

  async getLastEventId(serverId: number): Promise<EventId> {
    this.#assertOpen('getLastEventId');
    return { ...this.store.system.get(serverId).id };
  }

  async register(events: Event[]): Promise<(Event | null)[]> {
    this.#assertOpen('register');
    const results = this.store.register(events);
    if (this.#pendingSince === null && this.store.hasPending) this.#pendingSince = performance.now();
    if (this.#periodMs === 0 && this.store.hasPending) await this.flush();
    return results;
  }

  async query(data: QueryData): Promise<Event[]> {
    this.#assertOpen('query');
    return (await this.#queries.run(data)).events();
  }

  async queryEncoded(data: QueryData): Promise<EncodedEvents> {
    this.#assertOpen('queryEncoded');
    return (await this.#queries.run(data)).encoded();
  }

  queryFlushed(eventId: EventId): AsyncIterable<Event[]> {
    this.#assertOpen('queryFlushed');
    return queryFlushed(this.store.env, eventId);
  }

  /** Writes everything registered so far; resolves once it is durable and notified. */
  flush(): Promise<void> {
    return this.#serial(async () => {
      if (!this.store.hasPending) return;
      const started = performance.now();
      this.#flushing = this.store.pendingCount;
      let sessions;
      try {
        sessions = await flushPending(this.store);
      } finally {
        this.#flushing = 0; // a failed flush gives its events back to the store
      }
      this.#lastFlushAt = performance.now();
      this.#flushDuration.observe((this.#lastFlushAt - started) / 1000);
      // what was registered during the commit waits since no earlier than its start
      this.#pendingSince = this.store.hasPending ? started : null;
      for (const session of sessions) {
        for (const cb of this.#flushedCbs) {
          try {
            cb(session);
          } catch (err) {
            this.#logger.warning(`lmdb backend flushed callback threw: ${String(err)}`);
          }
        }
      }
    });
  }

  flushStatus(): FlushStatus {
    const since = this.#pendingSince;
    return {
      pendingEvents: this.#flushing + this.store.pendingCount,
      oldestSeconds: since === null ? 0 : (performance.now() - since) / 1000,
    };
  }

  /** Seconds since the last flush that wrote events (since the open before the first). */
  get lastFlushAgeSeconds(): number {
    return (performance.now() - this.#lastFlushAt) / 1000;
  }

  /** The cleanup pass at a given time (public for the limit tests through the internal factory). */
  applyLimits(at: Timestamp): Promise<void> {
    return this.#serial(() => {
      const { env, partitions, archive } = this.store;
      return applyLimits(env, archive.partition === null ? partitions : [...partitions, archive.partition], at);
    });
  }

  onFlushed(cb: (events: Event[]) => void): () => void {
    this.#flushedCbs.add(cb);
    return () => this.#flushedCbs.delete(cb);
  }

  protected override async teardown(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    try {
      await this.flush();
    } finally {
      await this.#lock.catch(() => undefined);
      await this.#readers.close();
      this.#envClosed = true;
      await this.store.env.close();
    }
  }

  /** Flush and cleanup never overlap: both read committed refs ahead of their batched writes. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(() => {
      if (this.#envClosed) throw new Error('lmdb backend is closed');
      return task();
    });
    this.#lock = run.catch(() => undefined);
    return run;
  }

  #every(ms: number, task: () => Promise<void>): void {
    const index = this.#timers.length;
    const tick = (): void => {
      task().then(
        () => {
          if (this.isOpen) this.#timers[index] = setTimeout(tick, ms).unref();
        },
        (err) => this.#backgroundFailure(err),
      );
    };
    this.#timers.push(setTimeout(tick, ms).unref());
  }

  #backgroundFailure(err: unknown): void {
    if (!this.isOpen) return;
    this.#logger.warning(`lmdb backend closes after a background failure: ${String(err)}`);
    void this.lifecycle.fail(err);
  }

  #assertOpen(what: string): void {
    if (!this.isOpen) throw new Error(`lmdb backend is closed (${what})`);
  }
}

export async function createLmdbBackend(conf: LmdbBackendConf, deps: BackendDeps = {}): Promise<Backend> {
  return openLmdbBackend(conf, deps);
}

/** The built-in backend module `lmdb`: its data lives in the file `db_path`. */
export const lmdbBackendModule: BackendModule = {
  create: (conf, deps) => createLmdbBackend(conf as unknown as LmdbBackendConf, deps), // checked when it opens
  confSchema,
  dataPathKey: 'db_path',
};

/** Internal: the backend with its store and test hooks. Not exported from the package root. */
export async function openLmdbBackend(conf: LmdbBackendConf, options: LmdbBackendOptions = {}): Promise<LmdbBackend> {
  assertLmdbConf(conf);
  const store = await LmdbStore.open(conf, options.logger);
  return new LmdbBackend(store, conf, options);
}
