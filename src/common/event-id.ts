// Event ids: total order is lexicographic (server, session, instance), as Python tuples.
import type { Event, EventId } from './types.ts';

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

/** Sorted by id, one list per run of equal (server, session) ([Q]: Hat split on session only). */
export function splitPerSession(events: Event[]): Event[][] {
  let inOrder = true;
  for (let i = 1; i < events.length && inOrder; i++) inOrder = compareEventIds(events[i - 1]!.id, events[i]!.id) < 0;
  const sorted = inOrder ? events : [...events].sort((a, b) => compareEventIds(a.id, b.id));
  const runs: Event[][] = [];
  let run: Event[] = [];
  for (const event of sorted) {
    const first = run[0];
    if (first !== undefined && (first.id.server !== event.id.server || first.id.session !== event.id.session)) {
      runs.push(run);
      run = [];
    }
    run.push(event);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
