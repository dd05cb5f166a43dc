// What the eventer server needs of an engine; the real engine (src/engine) satisfies it.
import type { Event, QueryData, RegisterEvent, Source } from '../common/types.ts';
import type { EncodedEvents } from '../backends/encoded-events.ts';

export interface EventerEngine {
  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]>;
  query(data: QueryData): Promise<Event[]>;
  /** The answer as the wire carries it (what `query` answers, encoded). */
  queryEncoded(data: QueryData): Promise<EncodedEvents>;
  /** Called with each stored session's events; returns unsubscribe. */
  onEvents(cb: (events: Event[]) => void): () => void;
}
