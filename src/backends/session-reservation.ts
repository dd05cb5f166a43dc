// Event ids must never be reused, even after a crash. The LMDB backend only remembers the last
// *flushed* id, but the engine hands out ids (register responses, notifications) up to a flush
// period earlier. So the server reserves blocks of session and instance numbers in a small
// sidecar file (`<db_path>-reservation.json`) and makes that reservation durable *before* any
// event with an id inside a new block reaches the backend, and hence before any client can see
// it. After a crash the engine starts above the reservation; after a clean stop the file holds
// the exact last id, so numbering continues without a gap. When the file cannot be written (a
// full disk), events whose ids it does not cover are refused (null, and a logged reason) and the
// write is tried again, after a pause that doubles up to 10 s, by the next registration.
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Backend, FlushStatus } from './backend.ts';
import type { Event, EventId, QueryData } from '../common/types.ts';
import { describeError } from '../common/describe-error.ts';
import { silentLogger, type Logger } from '../common/logger.ts';

/** Sessions reserved ahead; one fsync'd write per this many register requests. */
export const SESSION_BLOCK = 10_000;
/** Instances reserved ahead; one fsync'd write per this many events. */
export const INSTANCE_BLOCK = 1_000_000;

interface Reserved { session: number; instance: number }

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

export function reservationFileOf(dbPath: string): string {
  return `${dbPath}-reservation.json`;
}

/** The reservation stored for `serverId`, or null when there is none. */
export async function readReservation(file: string, serverId: number): Promise<Reserved | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = JSON.parse(text) as { servers?: Record<string, Reserved> };
  const entry = parsed.servers?.[String(serverId)];
  if (!entry || !Number.isSafeInteger(entry.session) || !Number.isSafeInteger(entry.instance))
    return null;
  return { session: entry.session, instance: entry.instance };
}

/** Atomic and durable: write a temporary file, fsync, rename over, fsync the folder. */
async function writeReservation(file: string, serverId: number, reserved: Reserved): Promise<void> {
  let servers: Record<string, Reserved> = {};
  try {
    servers = (JSON.parse(await readFile(file, 'utf8')) as { servers?: Record<string, Reserved> }).servers ?? {};
  } catch {
    // absent or unreadable: start afresh (only this server's entry matters to us)
  }
  servers[String(serverId)] = reserved;
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify({ version: 1, servers })}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * The backend as the engine sees it: `getLastEventId` starts above the reservation, and
 * `register` waits for the reservation to cover its ids before passing them on.
 */
export class ReservingBackend implements Backend {
  /** what the file durably covers */
  #persisted: Reserved;
  /** the highest session and instance passed to register (or started from) */
  #highest: Reserved;
  #writing: Promise<void> | null = null;
  /** the last write failed: why, since when, and when the next may be tried */
  #failure: { error: Error; since: number; retryAt: number; pauseMs: number } | null = null;

  private constructor(
    readonly inner: Backend,
    readonly file: string,
    readonly serverId: number,
    start: Reserved,
    readonly logger: Logger,
  ) {
    this.#persisted = { ...start };
    this.#highest = { ...start };
  }

  static async open(inner: Backend, file: string, serverId: number, logger: Logger = silentLogger()): Promise<ReservingBackend> {
    const last = await inner.getLastEventId(serverId);
    const reserved = await readReservation(file, serverId);
    const start = {
      session: Math.max(last.session, reserved?.session ?? 0),
      instance: Math.max(last.instance, reserved?.instance ?? 0),
    };
    return new ReservingBackend(inner, file, serverId, start, logger);
  }

  async getLastEventId(serverId: number): Promise<EventId> {
    const last = await this.inner.getLastEventId(serverId);
    if (serverId !== this.serverId) return last;
    // componentwise: above every id handed out before a crash in (session, instance) order
    return {
      server: serverId,
      session: Math.max(last.session, this.#highest.session),
      instance: Math.max(last.instance, this.#highest.instance),
    };
  }

  async register(events: Event[]): Promise<(Event | null)[]> {
    for (const e of events) {
      if (e.id.server !== this.serverId) continue;
      if (e.id.session > this.#highest.session) this.#highest.session = e.id.session;
      if (e.id.instance > this.#highest.instance) this.#highest.instance = e.id.instance;
    }
    // a write in progress may have started before these ids: wait until one covers them
    while (!this.#covers(this.#persisted)) {
      const failure = this.#failure;
      if (failure !== null && Date.now() < failure.retryAt) return this.#refuse(events, failure.error);
      try {
        await this.#extend();
      } catch (err) {
        return this.#refuse(events, err as Error);
      }
    }
    const p = this.#persisted;
    if (this.#highest.session > p.session - SESSION_BLOCK / 2 || this.#highest.instance > p.instance - INSTANCE_BLOCK / 2) {
      if (this.#failure === null || Date.now() >= this.#failure.retryAt) void this.#extend().catch(() => undefined); // ahead of need
    }
    return this.inner.register(events);
  }

  /** The inner backend's, not writable either while the reservation cannot be written. */
  flushStatus(): FlushStatus {
    const inner = this.inner.flushStatus?.() ?? { pendingEvents: 0, oldestSeconds: 0, pendingBytes: 0, maxPendingBytes: 0, writable: true, reason: null, since: null };
    const failure = this.#failure;
    if (failure === null) return inner;
    const reason = inner.writable ? failure.error.message : `${inner.reason}; ${failure.error.message}`;
    return { ...inner, writable: false, reason, since: Math.min(inner.since ?? failure.since, failure.since) };
  }

  /** After a clean stop (everything flushed): store the exact last id, so no gap follows. */
  async settle(): Promise<void> {
    await this.#writing?.catch(() => undefined);
    await writeReservation(this.file, this.serverId, { ...this.#highest });
  }

  query(data: QueryData): Promise<Event[]> {
    return this.inner.query(data);
  }

  get queryEncoded(): Backend['queryEncoded'] {
    return this.inner.queryEncoded?.bind(this.inner);
  }

  queryFlushed(eventId: EventId): AsyncIterable<Event[]> {
    return this.inner.queryFlushed(eventId);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  onFlushed(cb: (events: Event[]) => void): () => void {
    return this.inner.onFlushed(cb);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get closed(): Promise<void> | undefined {
    return this.inner.closed;
  }

  get failure(): Error | undefined {
    return this.inner.failure;
  }

  get isOpen(): boolean | undefined {
    return this.inner.isOpen;
  }

  #covers(reserved: Reserved): boolean {
    return this.#highest.session <= reserved.session && this.#highest.instance <= reserved.instance;
  }

  #refuse(events: Event[], error: Error): (Event | null)[] {
    this.logger.warning('events refused: their ids are not covered by a durable session reservation', {
      events: events.length, reason: error.message,
    });
    return events.map(() => null);
  }

  /** One write at a time; each covers the highest ids seen when it starts, plus a block. */
  #extend(): Promise<void> {
    this.#writing ??= (async () => {
      const target = {
        session: this.#highest.session + SESSION_BLOCK,
        instance: this.#highest.instance + INSTANCE_BLOCK,
      };
      try {
        await writeReservation(this.file, this.serverId, target);
        this.#persisted = target;
        if (this.#failure !== null) this.logger.info('the session reservation is written again', { file: this.file });
        this.#failure = null;
      } catch (err) {
        const error = new Error(`cannot persist the session reservation ${this.file}: ${describeError(err)}`, { cause: err });
        const pauseMs = this.#failure === null ? RETRY_FIRST_MS : Math.min(this.#failure.pauseMs * 2, RETRY_MAX_MS);
        if (this.#failure === null) this.logger.error('the session reservation cannot be written; registrations beyond it are refused until it can', { reason: error.message });
        this.#failure = { error, since: this.#failure?.since ?? Date.now(), retryAt: Date.now() + pauseMs, pauseMs };
        throw error;
      } finally {
        this.#writing = null;
      }
    })();
    return this.#writing;
  }
}
