// A Syncer server over a backend that does not persist (memory, dummy). Hat serves them with
// nothing: their flushed callback never fires and `query_flushed` yields nothing, so a peer gets
// an empty backlog and no live events. Such a backend never gets more durable than "registered",
// so this view calls that its flush: the backlog is what the backend holds of the asked server
// (memory: everything it was given; dummy: nothing) and live is every session it accepts, engine
// sessions and synced ones alike. The Syncer's guarantees are then those of the backend: what a
// restart loses, it loses for its peers too.
import type { Event, EventId, QueryData } from '../common/types.ts';
import { compareEventIds, splitPerSession } from '../common/event-id.ts';
import type { Backend } from '../backends/backend.ts';

/** `backend` with registration reported as flushing; give the engine and the Syncer this view. */
export function flushedOnRegister(backend: Backend): Backend {
  return new FlushedOnRegister(backend);
}

class FlushedOnRegister implements Backend {
  readonly #callbacks = new Set<(events: Event[]) => void>();
  readonly closed?: Promise<void>;
  readonly #inner: Backend;

  constructor(inner: Backend) {
    this.#inner = inner;
    if (inner.closed !== undefined) this.closed = inner.closed;
  }

  getLastEventId(serverId: number): Promise<EventId> {
    return this.#inner.getLastEventId(serverId);
  }

  async register(events: Event[]): Promise<(Event | null)[]> {
    const results = await this.#inner.register(events);
    const accepted = results.filter((e): e is Event => e !== null);
    for (const session of splitPerSession(accepted)) {
      for (const cb of this.#callbacks) cb(session);
    }
    return results;
  }

  query(data: QueryData): Promise<Event[]> {
    return this.#inner.query(data);
  }

  async *queryFlushed(eventId: EventId): AsyncIterable<Event[]> {
    const held = await this.#inner.query({ serverId: eventId.server, order: 'ascending' });
    const after = held.filter((e) => compareEventIds(e.id, eventId) > 0);
    yield* splitPerSession(after);
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  onFlushed(cb: (events: Event[]) => void): () => void {
    this.#callbacks.add(cb);
    return () => this.#callbacks.delete(cb);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
