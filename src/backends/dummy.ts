// Dummy backend (spec/backend.md 3.1): accepts everything, stores nothing. Also the base of the
// memory backend, which shares its "never flushed" behaviour and its closed-state handling.
import { completeQueryData } from '../common/query-data.ts';
import type { Event, EventId, QueryData } from '../common/types.ts';
import type { Backend, BackendModule } from './backend.ts';
import { ResourceBase } from '../common/resource.ts';

/** `conf` is accepted for symmetry with other backends and ignored. */
export async function createDummyBackend(_conf?: object): Promise<Backend> {
  return new DummyBackend();
}

/** The built-in backend module `dummy`. */
export const dummyBackendModule: BackendModule = { create: createDummyBackend };

export class DummyBackend extends ResourceBase implements Backend {
  constructor(protected readonly name = 'dummy') {
    super();
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

  /** Nothing is ever persisted, so there is never anything flushed to yield. */
  async *queryFlushed(_eventId: EventId): AsyncIterable<Event[]> {
    this.assertOpen('queryFlushed');
  }

  async flush(): Promise<void> {
    this.assertOpen('flush');
  }

  /** The callback is never called: nothing is ever flushed. */
  onFlushed(_cb: (events: Event[]) => void): () => void {
    return () => {};
  }

  protected assertOpen(operation: string): void {
    if (!this.isOpen) throw new Error(`${this.name} backend is closed: cannot ${operation}`);
  }
}
