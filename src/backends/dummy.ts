// Dummy backend (docs/storage.md, "The memory and dummy backends"): accepts everything, stores
// nothing. It shares volatile.ts (never flushed, closed-state handling) with the memory backend.
import { completeQueryData } from '../common/query-data.ts';
import type { Event, EventId, QueryData } from '../common/types.ts';
import type { Backend, BackendModule } from './backend.ts';
import { NO_KEYS, VolatileBackend } from './volatile.ts';

/** `conf` is accepted for symmetry with other backends and ignored. */
export async function createDummyBackend(_conf?: object): Promise<Backend> {
  return new DummyBackend();
}

/** The built-in backend module `dummy`. */
export const dummyBackendModule: BackendModule = { create: createDummyBackend, confSchema: NO_KEYS, volatile: true };

class DummyBackend extends VolatileBackend {
  constructor() {
    super('dummy');
  }

  async getLastEventId(serverId: number): Promise<EventId> {
    this.assertOpen('getLastEventId');
    return { server: serverId, session: 0, instance: 0 };
  }

  async register(events: Event[]): Promise<(Event | null)[]> {
    this.assertOpen('register');
    return [...events];
  }

  async query(data: QueryData): Promise<Event[]> {
    this.assertOpen('query');
    completeQueryData(data); // still reject malformed queries
    return [];
  }
}
