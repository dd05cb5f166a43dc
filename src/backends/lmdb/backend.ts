// The LMDB backend resource: register/query over the store, its writes through the flush loop
// (flush-loop.ts: every flush_period seconds, sooner when pending memory grows, grouped in durable
// mode, retried while the storage refuses them), the memory budget of what waits to be written,
// the limits cleanup, flushed callbacks, and close (a final flush, then the env closes).
import { now } from '../../common/timestamp.ts';
import type { Event, EventId, QueryData, Timestamp } from '../../common/types.ts';
import type { Backend, BackendDeps, BackendHealth, BackendModule } from '../backend.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { ResourceBase } from '../../common/resource.ts';
import { describeError } from '../../common/describe-error.ts';
import { assertLmdbConf, confSchema, DEFAULT_MAX_PENDING_BYTES, type LmdbBackendConf } from './conf.ts';
import { flushPending, splitPerSession } from './flush.ts';
import { FlushLoop } from './flush-loop.ts';
import { applyLimits } from './limits.ts';
import { runLmdbQuery } from './query.ts';
import { queryFlushed } from './refs.ts';
import { LmdbStore } from './store.ts';
import { LmdbWriteError } from './write-error.ts';

export interface LmdbBackendOptions extends BackendDeps {
  /** run the limits cleanup at open and on every period (default true; tests turn it off) */
  cleanup?: boolean;
}

/** A Resource: it closes by `close()` (final flush, then the env closes) or after a failed background task. */
export class LmdbBackend extends ResourceBase implements Backend {
  readonly store: LmdbStore;
  readonly #durable: boolean;
  readonly #maxPendingBytes: number;
  readonly #loop: FlushLoop;
  readonly #flushedCbs = new Set<(events: Event[]) => void>();
  readonly #logger: Logger;
  #cleanupTimer: NodeJS.Timeout | null = null;
  #envClosed = false;
  /** acceptance numbers below this were answered as registered */
  #acknowledged = 0;

  constructor(store: LmdbStore, conf: LmdbBackendConf, options: LmdbBackendOptions) {
    super();
    this.store = store;
    this.#logger = options.logger ?? silentLogger();
    const periodMs = conf.flush_period * 1000;
    this.#durable = periodMs === 0;
    this.#maxPendingBytes = conf.max_pending_bytes ?? DEFAULT_MAX_PENDING_BYTES;
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
    if (this.#durable) {
      if (upTo <= this.#loop.written) return results; // nothing of it was accepted
      this.#loop.soon();
      if (!(await this.#loop.writtenUpTo(upTo))) return events.map(() => null); // closed first: not written
    } else {
      const pendingBytes = this.store.pendingBytes;
      if (pendingBytes >= this.#maxPendingBytes / 2) this.#loop.soon();
      // Faster than the disk: answer once the flush in progress has made room.
      if (pendingBytes >= this.#maxPendingBytes) await this.#loop.idle();
    }
    this.#acknowledged = Math.max(this.#acknowledged, upTo);
    return results;
  }

  async query(data: QueryData): Promise<Event[]> {
    this.#assertOpen('query');
    const { env, latest, partitions, conditions } = this.store;
    return runLmdbQuery(env, latest, partitions, conditions, data);
  }

  queryFlushed(eventId: EventId): AsyncIterable<Event[]> {
    this.#assertOpen('queryFlushed');
    return queryFlushed(this.store.env, eventId);
  }

  /** Writes everything registered so far; resolves once it is durable and notified. */
  flush(): Promise<void> {
    return this.#loop.flush();
  }

  health(): BackendHealth {
    const failure = this.#loop.failure;
    return {
      writable: failure === null,
      reason: failure?.message ?? null,
      since: failure === null ? null : this.#loop.failingSince,
      pendingEvents: this.store.pendingEvents,
      pendingBytes: this.store.pendingBytes,
      maxPendingBytes: this.#maxPendingBytes,
    };
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
    const events = await flushPending(this.store);
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
  create: (conf, deps) => createLmdbBackend(conf as LmdbBackendConf, deps),
  confSchema,
  dataPathKey: 'db_path',
};

/** Internal: the backend with its store and test hooks. Not exported from the package root. */
export async function openLmdbBackend(conf: LmdbBackendConf, options: LmdbBackendOptions = {}): Promise<LmdbBackend> {
  assertLmdbConf(conf);
  const store = await LmdbStore.open(conf, options.logger);
  return new LmdbBackend(store, conf, options);
}
