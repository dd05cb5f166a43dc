// The storage contract every backend implements (spec/backend.md section 2).
import type { Event, EventId, QueryData } from '../common/types.ts';
import type { Logger } from '../common/logger.ts';

export interface Backend {
  /** Last accepted id of that server, `(serverId, 0, 0)` when there is none. */
  getLastEventId(serverId: number): Promise<EventId>;
  /**
   * Same length and order as the input; `null` marks an event that was not accepted, including one
   * the backend cannot store (it says why in its log). Rejecting means the backend is broken: the
   * engine stops on it, so a bad event must never make it reject.
   */
  register(events: Event[]): Promise<(Event | null)[]>;
  query(data: QueryData): Promise<Event[]>;
  /** Flushed events of `eventId.server` strictly after `eventId`, one list per session. */
  queryFlushed(eventId: EventId): AsyncIterable<Event[]>;
  flush(): Promise<void>;
  /** Called once per persisted session with its events sorted by id; returns unsubscribe. */
  onFlushed(cb: (events: Event[]) => void): () => void;
  close(): Promise<void>;
  /** For a backend that can close on its own (lmdb after a failed background flush): resolves when it has closed. */
  readonly closed?: Promise<void>;
}

export interface BackendOptions {
  /** where the backend says why it refused an event */
  logger?: Logger;
}

/** What a backend module (built in or loaded by path) exports. */
export interface BackendModule {
  create(conf: Record<string, unknown>, options?: BackendOptions): Promise<Backend>;
  confSchema?: object;
}
