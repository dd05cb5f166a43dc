// Event ids: total order is lexicographic (server, session, instance), as Python tuples.
import type { EventId } from './types.ts';

export function compareEventIds(a: EventId, b: EventId): number {
  return a.server - b.server || a.session - b.session || a.instance - b.instance;
}

export function eventIdsEqual(a: EventId, b: EventId): boolean {
  return a.server === b.server && a.session === b.session && a.instance === b.instance;
}

/** A string that identifies an id exactly (usable as a Map/Set key). */
export function eventIdKey(id: EventId): string {
  return `${id.server}/${id.session}/${id.instance}`;
}
