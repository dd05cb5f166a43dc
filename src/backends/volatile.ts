// What the memory and dummy backends have in common: they keep nothing on disk, so nothing is ever
// flushed (flushed callbacks never fire, queryFlushed yields nothing), and once closed they refuse
// every call, saying which backend and which call. Neither has a configuration key of its own.
import type { Event, EventId, QueryData } from '../common/types.ts';
import type { Backend } from './backend.ts';
import { ResourceBase } from '../common/resource.ts';

/** Their confSchema: no keys but the section's `module`, so anything else there is reported as a typo. */
export const NO_KEYS = { type: 'object', properties: {} };

export abstract class VolatileBackend extends ResourceBase implements Backend {
  readonly #name: string;

  constructor(name: string) {
    super();
    this.#name = name;
  }

  abstract getLastEventId(serverId: number): Promise<EventId>;
  abstract register(events: Event[]): Promise<(Event | null)[]>;
  abstract query(data: QueryData): Promise<Event[]>;

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
    if (!this.isOpen) throw new Error(`${this.#name} backend is closed: cannot ${operation}`);
  }
}
