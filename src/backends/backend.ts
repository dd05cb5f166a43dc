// The storage contract every backend implements (docs/api.md, "Backends").
import type { Event, EventId, QueryData } from '../common/types.ts';
import type { Resource } from '../common/resource.ts';
import type { Logger } from '../common/logger.ts';
import type { EncodedEvents } from './encoded-events.ts';
import type { Metrics } from '../common/metrics.ts';

/**
 * The built-in backends are Resources (common/resource.ts): `closed` settles once closed, by
 * `close()` or on its own (lmdb after a failed background flush), and `failure` says why. Only
 * `close()` is required, so a backend module loaded by path may leave the rest out.
 */
export interface Backend extends Partial<Resource> {
  /** Last accepted id of that server, `(serverId, 0, 0)` when there is none. */
  getLastEventId(serverId: number): Promise<EventId>;
  /**
   * Same length and order as the input; `null` marks an event that was not accepted, including one
   * the backend cannot store (it says why in its log). Rejecting means the backend is broken: the
   * engine stops on it, so a bad event must never make it reject.
   *
   * The engine calls it again before an earlier call has resolved (a durable backend commits such
   * calls together): calls take effect in the order they are made, and their promises resolve in
   * that order.
   */
  register(events: Event[]): Promise<(Event | null)[]>;
  query(data: QueryData): Promise<Event[]>;
  /**
   * The same answer as `query`, encoded for the wire. Optional: a backend that reads stored
   * encodings (lmdb) offers it so the eventer sends them undecoded; for others the engine encodes.
   */
  queryEncoded?(data: QueryData): Promise<EncodedEvents>;
  /** Flushed events of `eventId.server` strictly after `eventId`, one list per session. */
  queryFlushed(eventId: EventId): AsyncIterable<Event[]>;
  flush(): Promise<void>;
  /** Called once per persisted session with its events sorted by id; returns unsubscribe. */
  onFlushed(cb: (events: Event[]) => void): () => void;
  close(): Promise<void>;
  /**
   * A backend that holds registered events until a flush: what waits now, and whether it can be
   * written (the server's /healthz, its metrics and the log read it).
   */
  flushStatus?(): FlushStatus;
}

export interface FlushStatus {
  /** registered events not yet durable (including those of a flush in progress) */
  pendingEvents: number;
  /** how long the oldest of them has waited; 0 when none */
  oldestSeconds: number;
  /** what they take in memory (estimated bytes) */
  pendingBytes: number;
  maxPendingBytes: number;
  /**
   * False while writes fail (no space, an I/O error): accepted events wait in memory, the write
   * is retried, and registrations past `maxPendingBytes` (in durable mode: all) are refused.
   */
  writable: boolean;
  /** why not, while not writable */
  reason: string | null;
  /** since when not (ms since the epoch), while not writable */
  since: number | null;
}

/** What a backend gets besides its configuration. */
export interface BackendDeps {
  /** Where it reports what goes wrong in the background and why it refused an event. Default: nowhere. */
  logger?: Logger;
  /** Where it reports its own figures (flushes, pending events, file size). Default: nowhere. */
  metrics?: Metrics;
}

/** What a backend module (built in or loaded by path) exports. */
export interface BackendModule {
  create(conf: Record<string, unknown>, deps?: BackendDeps): Promise<Backend>;
  confSchema?: object;
  /**
   * The configuration key naming the file the backend keeps its data in (lmdb: 'db_path'), for a
   * backend with one. The configuration resolves it against its folder; a server creates the
   * file's folder, locks the file against a second server (data-lock.ts) and reserves event ids
   * beside it (session-reservation.ts), because such a backend remembers only flushed ids.
   */
  dataPathKey?: string;
  /**
   * True for a backend that keeps nothing durable (memory, dummy): it never reports a flush, so a
   * server gives its engine and its Syncer a view that counts registering as flushing
   * (syncer/flushed-on-register.ts); without it, Syncer clients would get nothing.
   */
  volatile?: boolean;
}

/**
 * A query whose answer would hold more events than the backend allows (lmdb:
 * `max_query_results`): it fails whole rather than take the server's memory.
 */
export class QueryLimitError extends Error {
  constructor(readonly limit: number) {
    super(`query answer exceeds max_query_results (${limit} events): narrow it (types, time range) or ask for pages (maxResults with tFrom/tTo)`);
    this.name = 'QueryLimitError';
  }
}
