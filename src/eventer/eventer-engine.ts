// What the eventer server needs of an engine; the real engine (src/engine) satisfies it.
import type { Event, QueryData, RegisterEvent, Source } from '../common/types.ts';

export interface EventerEngine {
  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]>;
  query(data: QueryData): Promise<Event[]>;
  /** Called with each stored session's events; returns unsubscribe. */
  onEvents(cb: (events: Event[]) => void): () => void;
}
