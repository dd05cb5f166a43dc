// The LMDB backend resource: register/query over the store, its writes through the flush loop
// (flush-loop.ts: every flush_period seconds, sooner when pending memory grows, grouped in durable
// mode, retried while the storage refuses them), the memory budget of what waits to be written,
// the limits cleanup, flushed callbacks, and close (a final flush, then the env closes).
import { now } from '../../common/timestamp.ts';
import type { Event, EventId, QueryData, Timestamp } from '../../common/types.ts';
import type { Backend, BackendDeps, BackendModule, FlushStatus } from '../backend.ts';
import type { EncodedEvents } from '../encoded-events.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { noMetrics, type Histogram } from '../../common/metrics.ts';
import { reportLmdbMetrics } from './metrics.ts';
import { ResourceBase } from '../../common/resource.ts';
import { describeError } from '../../common/describe-error.ts';
import { splitPerSession } from '../../common/event-id.ts';
import { assertLmdbConf, confSchema, DEFAULT_MAX_PENDING_BYTES, DEFAULT_MAX_QUERY_RESULTS, type LmdbBackendConf } from './conf.ts';
import { flushPending } from './flush.ts';
import { FlushLoop } from './flush-loop.ts';
import { applyLimits } from './limits.ts';
import { LmdbQueries } from './query.ts';
import { ReaderPool } from './readers/reader-pool.ts';
import { queryFlushed } from './refs.ts';
import { LmdbStore } from './store.ts';
import { LmdbWriteError } from './write-error.ts';

/**
 * Past this much pending memory (or half of max_pending_bytes, if less) a flush starts before
 * its period ends. The period still bounds how long an event waits, this bounds what waits:
 * at 30,000 events/s of 1 KB a flush every period held ~110 MiB of events and the process's
 * anonymous memory reached 630 MiB; flushing at 12 MiB kept it at 265 MiB at the same rate
 * (bench:sustained). Smaller flushes cost nothing measurable down to here (bench:lmdb (b)); at
 * 4 MiB the per-flush work began to show.
 */
export const EARLY_FLUSH_BYTES = 16 * 1024 * 1024;

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
  readonly #durable: boolean;
  readonly #maxPendingBytes: number;
  readonly #loop: FlushLoop;
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
  #cleanupTimer: NodeJS.Timeout | null = null;
  #envClosed = false;
  /** acceptance numbers below this were answered as registered */
  #acknowledged = 0;

  constructor(store: LmdbStore, conf: LmdbBackendConf, options: LmdbBackendOptions) {
    super();
    this.store = store;
    this.#logger = options.logger ?? silentLogger();
    this.#flushDuration = reportLmdbMetrics(options.metrics ?? noMetrics(), this);
    const periodMs = conf.flush_period * 1000;
    this.#durable = periodMs === 0;
    this.#maxPendingBytes = conf.max_pending_bytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#readers = new ReaderPool(store.env, conf.conditions, this.#logger, options.readerThreads);
    store.env.commitObserver = this.#readers;
    this.#queries = new LmdbQueries(store, this.#readers, {
      maxResults: conf.max_query_results ?? DEFAULT_MAX_QUERY_RESULTS,
      mainThreadBudget: options.mainThreadBudget,
    });
    this.#loop = new FlushLoop({
      periodMs,
      write: () => this.#write(),
      accepted: () => store.acceptedCount,
      pending: () => ({ events: store.pendingEvents, bytes: store.pendingBytes }),
      onBroken: (err) => this.#backgroundFailure(err),
      logger: this.#logger,
    });
    // Always on: the reserved archive partition (archive.ts) has a limit even when no
    // configured partition has one.
    if (options.cleanup !== false) this.#cleanupEvery(Math.max(periodMs, 1000));
  }

  async getLastEventId(serverId: number): Promise<EventId> {
    this.#assertOpen('getLastEventId');
    return { ...this.store.system.get(serverId).id };
  }

  async register(events: Event[]): Promise<(Event | null)[]> {
    this.#assertOpen('register');
    const refusal = this.#refusal();
    if (refusal !== null) {
      this.#logger.warning('events refused: the store cannot write', {
        events: events.length, reason: refusal, pending_events: this.store.pendingEvents,
        pending_bytes: this.store.pendingBytes, max_pending_bytes: this.#maxPendingBytes,
      });
      return events.map(() => null);
    }
    const results = this.store.register(events);
    const upTo = this.store.acceptedCount;
    if (this.#pendingSince === null && this.store.hasPending) this.#pendingSince = performance.now();
    if (this.#durable) {
      if (upTo <= this.#loop.written) return results; // nothing of it was accepted
      this.#loop.soon();
      if (!(await this.#loop.writtenUpTo(upTo))) return events.map(() => null); // closed first: not written
    } else {
      const pendingBytes = this.store.pendingBytes;
      if (pendingBytes >= Math.min(this.#maxPendingBytes / 2, EARLY_FLUSH_BYTES)) this.#loop.soon();
      // Faster than the disk: answer once the flush in progress has made room.
      if (pendingBytes >= this.#maxPendingBytes) await this.#loop.idle();
    }
    this.#acknowledged = Math.max(this.#acknowledged, upTo);
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
    return this.#loop.flush();
  }

  flushStatus(): FlushStatus {
    const since = this.#pendingSince;
    const failure = this.#loop.failure;
    return {
      pendingEvents: this.#flushing + this.store.pendingEvents,
      oldestSeconds: since === null ? 0 : (performance.now() - since) / 1000,
      pendingBytes: this.store.pendingBytes,
      maxPendingBytes: this.#maxPendingBytes,
      writable: failure === null,
      reason: failure?.message ?? null,
      since: failure === null ? null : this.#loop.failingSince,
    };
  }


  /** Seconds since the last flush that wrote events (since the open before the first). */
  get lastFlushAgeSeconds(): number {
    return (performance.now() - this.#lastFlushAt) / 1000;
  }

  /** The cleanup pass at a given time (public for the limit tests through the internal factory). */
  applyLimits(at: Timestamp): Promise<void> {
    return this.#loop.exclusive(() => {
      if (this.#envClosed) throw new Error('lmdb backend is closed');
      const { env, partitions, archive } = this.store;
      return applyLimits(env, archive.partition === null ? partitions : [...partitions, archive.partition], at);
    });
  }

  onFlushed(cb: (events: Event[]) => void): () => void {
    this.#flushedCbs.add(cb);
    return () => this.#flushedCbs.delete(cb);
  }

  /** Why a registration is refused now (null: it is not): only while the store cannot write. */
  #refusal(): string | null {
    const failure = this.#loop.failure;
    if (failure === null) return null;
    // Durable mode acknowledges only what is written: nothing can be, so nothing is accepted.
    if (this.#durable) return failure.message;
    if (this.store.pendingBytes < this.#maxPendingBytes) return null;
    return `backpressure: max_pending_bytes (${this.#maxPendingBytes}) of accepted events wait for a store that cannot write (${failure.message})`;
  }

  async #write(): Promise<void> {
    if (this.#envClosed) throw new Error('lmdb backend is closed');
    if (!this.store.hasPending) return;
    const started = performance.now();
    this.#flushing = this.store.pendingEvents;
    let events: Event[];
    try {
      events = await flushPending(this.store);
    } finally {
      this.#flushing = 0; // a failed flush gives its events back to the store
    }
    this.#lastFlushAt = performance.now();
    this.#flushDuration.observe((this.#lastFlushAt - started) / 1000);
    // what was registered during the commit waits since no earlier than its start
    this.#pendingSince = this.store.hasPending ? started : null;
    if (this.#flushedCbs.size === 0) return;
    for (const session of splitPerSession(events)) {
      for (const cb of this.#flushedCbs) {
        try {
          cb(session);
        } catch (err) {
          this.#logger.warning(`lmdb backend flushed callback threw: ${String(err)}`);
        }
      }
    }
  }

  protected override async teardown(): Promise<void> {
    this.#loop.stop();
    if (this.#cleanupTimer !== null) clearTimeout(this.#cleanupTimer);
    let lost: Error | null = null;
    try {
      await this.#loop.flush();
    } catch (err) {
      lost = this.#lostOnClose(err);
    } finally {
      await this.#readers.close(); // the scans in flight end first: the file stays mapped for them
      await this.#loop.exclusive(async () => {
        this.#envClosed = true;
        await this.store.env.close();
      });
      this.#loop.abandonWaiters();
    }
    if (lost !== null) throw lost;
  }

  /** The final flush failed: exactly what is lost, told apart by whether it was acknowledged. */
  #lostOnClose(err: unknown): Error {
    const accepted = this.store.acceptedCount;
    const written = this.#loop.written;
    const acknowledged = Math.max(0, Math.min(this.#acknowledged, accepted) - written);
    const unanswered = accepted - written - acknowledged;
    const reason = err instanceof LmdbWriteError ? err.message : describeError(err);
    const message = `${acknowledged} acknowledged events could not be written (${reason})` +
      (unanswered > 0 ? `, nor ${unanswered} accepted events whose registration was not yet answered` : '');
    return new Error(message, { cause: err });
  }

  #cleanupEvery(ms: number): void {
    const pass = (): void => {
      this.applyLimits(now()).then(
        () => this.#scheduleCleanup(pass, ms),
        (err: unknown) => {
          if (err instanceof LmdbWriteError && err.retryable) {
            this.#logger.warning('limits cleanup postponed: the store cannot write', { reason: err.message });
            this.#scheduleCleanup(pass, ms);
          } else this.#backgroundFailure(err);
        },
      );
    };
    pass();
  }

  #scheduleCleanup(pass: () => void, ms: number): void {
    if (this.isOpen) this.#cleanupTimer = setTimeout(pass, ms).unref();
  }

  #backgroundFailure(err: unknown): void {
    if (!this.isOpen) return;
    this.#logger.warning(`lmdb backend closes after a background failure: ${describeError(err)}`);
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
