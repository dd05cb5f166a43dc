// Memory backend (docs/storage.md, "The memory and dummy backends"): an append-only list in registration order. Nothing is
// ever "flushed" (flushed callbacks never fire, queryFlushed yields nothing): volatile.ts.
import { compareEventIds } from '../common/event-id.ts';
import type { Event, EventId, QueryData } from '../common/types.ts';
import type { Backend, BackendModule } from './backend.ts';
import { NO_KEYS, VolatileBackend } from './volatile.ts';
import { runQuery } from './query-pipeline.ts';

/** `conf` is accepted for symmetry with other backends and ignored. */
export async function createMemoryBackend(_conf?: object): Promise<Backend> {
  return new MemoryBackend();
}

/** The built-in backend module `memory`. */
export const memoryBackendModule: BackendModule = { create: createMemoryBackend, confSchema: NO_KEYS, volatile: true };

class MemoryBackend extends VolatileBackend {
  readonly #events: Event[] = [];
  /** Largest id (full EventId order) registered per server, so the lookup is O(1). */
  readonly #lastIds = new Map<number, EventId>();

  constructor() {
    super('memory');
  }

  async getLastEventId(serverId: number): Promise<EventId> {
    this.assertOpen('getLastEventId');
    const last = this.#lastIds.get(serverId);
    return last ? { ...last } : { server: serverId, session: 0, instance: 0 };
  }

  /** Stores every event as given (no validation, duplicates allowed) and accepts them all. */
  async register(events: Event[]): Promise<(Event | null)[]> {
    this.assertOpen('register');
    for (const event of events) {
      this.#events.push(event);
      const last = this.#lastIds.get(event.id.server);
      if (!last || compareEventIds(event.id, last) > 0) this.#lastIds.set(event.id.server, event.id);
    }
    return [...events];
  }

  async query(data: QueryData): Promise<Event[]> {
    this.assertOpen('query');
    return runQuery(this.#events, data);
  }
}
