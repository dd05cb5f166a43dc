// When the LMDB backend writes, one write at a time, and what happens when a write fails.
//
// A flush runs every flush period, sooner when asked (pending memory past EARLY_FLUSH_BYTES, backend.ts), and
// in durable mode (flush_period 0) as soon as something is registered: registrations that arrive
// while a commit is in flight wait, and the next flush commits them together (group commit), so
// a busy durable server makes one fsync per group instead of one per request.
//
// A flush the storage refuses (no space, an I/O error) leaves its events pending in memory and is
// retried with back-off until it succeeds; meanwhile `failure` says why the store cannot write.
// Any other failure (a broken database, a bug) is not waited out: `onBroken` closes the backend.
import type { Logger } from '../../common/logger.ts';
import { LmdbWriteError } from './write-error.ts';

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

export interface FlushLoopOptions {
  /** 0: durable mode */
  periodMs: number;
  /** writes everything pending (flush.ts via the backend); rejects with an LmdbWriteError or worse */
  write(): Promise<void>;
  /** the store's acceptance count now: a write started now covers everything below it */
  accepted(): number;
  /** events and bytes still pending, for the log */
  pending(): { events: number; bytes: number };
  onBroken(err: unknown): void;
  logger: Logger;
}

interface Waiter {
  upTo: number;
  /** true: written; false: given up (the backend closed first) */
  resolve(written: boolean): void;
}

export class FlushLoop {
  readonly #o: FlushLoopOptions;
  /** writes (flushes, the limits cleanup) never overlap */
  #lock: Promise<unknown> = Promise.resolve();
  #flushing: Promise<void> | null = null;
  #again = false;
  /** acceptance numbers below this are written */
  #written = 0;
  /** in acceptance order */
  #waiters: Waiter[] = [];
  #failure: LmdbWriteError | null = null;
  #failingSince = 0;
  #retryMs = RETRY_FIRST_MS;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: FlushLoopOptions) {
    this.#o = options;
    if (options.periodMs > 0) this.#schedule(options.periodMs);
  }

  /** Why the store cannot write now (null: it can). */
  get failure(): LmdbWriteError | null {
    return this.#failure;
  }

  /** Since when it cannot (ms since the epoch; 0 while it can). */
  get failingSince(): number {
    return this.#failingSince;
  }

  /** Everything below this acceptance number is written. */
  get written(): number {
    return this.#written;
  }

  /** A flush as soon as possible: now, or right after the one in progress; retries keep their pace. */
  soon(): void {
    if (this.#stopped || this.#failure !== null) return;
    if (this.#flushing !== null) this.#again = true;
    else void this.#flush().catch(() => undefined);
  }

  /** Resolves true once everything below `upTo` is written, false if the loop stops first. */
  writtenUpTo(upTo: number): Promise<boolean> {
    if (this.#written >= upTo) return Promise.resolve(true);
    if (this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => this.#waiters.push({ upTo, resolve }));
  }

  /** The flush in progress has ended (written or failed). */
  async idle(): Promise<void> {
    await this.#flushing?.catch(() => undefined);
  }

  /** One flush now, after any in progress; rejects with its failure. */
  flush(): Promise<void> {
    return this.#flush();
  }

  /** Runs `task` when no write is in progress, and holds writes off until it ends. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** No more timers; waiters not yet written get false. A final `flush()` may still follow. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** After the final flush: whoever still waits is told its events were not written. */
  abandonWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(false);
  }

  #flush(): Promise<void> {
    const flushing = this.exclusive(() => this.#writeOnce());
    this.#flushing = flushing;
    void flushing.then(
      () => this.#afterFlush(flushing),
      (err: unknown) => {
        this.#afterFlush(flushing);
        this.#failed(err);
      },
    );
    return flushing;
  }

  async #writeOnce(): Promise<void> {
    const upTo = this.#o.accepted();
    const failingSince = this.#failingSince;
    await this.#o.write();
    this.#written = Math.max(this.#written, upTo);
    if (this.#failure !== null) {
      this.#o.logger.info('the store writes again: every pending event is written', {
        after_ms: Date.now() - failingSince, previous_reason: this.#failure.message,
      });
      this.#failure = null;
      this.#failingSince = 0;
      this.#retryMs = RETRY_FIRST_MS;
      if (this.#o.periodMs > 0 && !this.#stopped) this.#schedule(this.#o.periodMs);
    }
    let done = 0;
    while (done < this.#waiters.length && this.#waiters[done]!.upTo <= this.#written) this.#waiters[done++]!.resolve(true);
    if (done > 0) this.#waiters.splice(0, done);
  }

  #afterFlush(flushing: Promise<void>): void {
    if (this.#flushing !== flushing) return;
    this.#flushing = null;
    // Group commit: what arrived during that flush goes now, in one transaction.
    if (this.#again || (this.#o.periodMs === 0 && this.#waiters.length > 0)) {
      this.#again = false;
      this.soon();
    }
  }

  #failed(err: unknown): void {
    if (this.#stopped) return; // the final flush: the backend's close reports it
    if (!(err instanceof LmdbWriteError) || !err.retryable) {
      this.#o.onBroken(err);
      return;
    }
    const first = this.#failure === null;
    this.#failure = err;
    if (first) this.#failingSince = Date.now();
    const { events, bytes } = this.#o.pending();
    const fields = { reason: err.message, pending_events: events, pending_bytes: bytes, retry_in_ms: this.#retryMs };
    if (first) this.#o.logger.error('the store cannot write: accepted events stay in memory and the write is retried', fields);
    else this.#o.logger.warning('the store still cannot write', fields);
    this.#schedule(this.#retryMs, true);
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }

  /** The next timed flush: the period's, or a retry's (which replaces it). */
  #schedule(ms: number, retry = false): void {
    if (this.#stopped) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const periodic = !retry && this.#o.periodMs > 0;
      const run = this.#flushing ?? (this.#o.pending().events > 0 || retry ? this.#flush() : Promise.resolve());
      void run.then(
        () => periodic && this.#failure === null && this.#schedule(this.#o.periodMs),
        () => undefined, // #failed has scheduled the retry, or closed the backend
      );
    }, ms).unref();
  }
}
