// The reference query semantics over a plain list of events (docs/storage.md, "The memory and dummy backends"; docs/api.md, "Data model"): filter, then
// stable sort, then unique type, then truncate. Used by the memory backend and as the oracle
// that other backends are compared against.
import { eventIdKey } from '../common/event-id.ts';
import { eventTypeKey } from '../common/event-type.ts';
import { payloadsEqual } from '../common/payload.ts';
import { completeQueryData, type CompleteQueryData } from '../common/query-data.ts';
import { Subscription } from '../common/subscription.ts';
import { compareTimestamps } from '../common/timestamp.ts';
import type { Event, QueryData, Timestamp } from '../common/types.ts';

/** Runs the whole pipeline; `events` is in registration order and is not modified. */
export function runQuery(events: Iterable<Event>, data: QueryData): Event[] {
  const q = completeQueryData(data);
  if (q.maxResults !== null && q.maxResults <= 0) return [];
  const accept = eventFilter(q);
  const selected: Event[] = [];
  for (const event of events) if (accept(event)) selected.push(event);
  sortEvents(selected, q);
  const unique = q.uniqueType ? keepFirstOfEachType(selected) : selected;
  return q.maxResults === null ? unique : unique.slice(0, q.maxResults);
}

/** The conjunction of every filter set in `q`. */
export function eventFilter(q: CompleteQueryData): (event: Event) => boolean {
  const tests: ((e: Event) => boolean)[] = [];
  const { serverId, ids, types, tFrom, tTo, sourceTFrom, sourceTTo, payload } = q;
  if (serverId !== null) tests.push((e) => e.id.server === serverId);
  if (ids !== null) {
    const wanted = new Set(ids.map(eventIdKey));
    tests.push((e) => wanted.has(eventIdKey(e.id)));
  }
  if (types !== null) {
    const sub = new Subscription(types);
    tests.push((e) => sub.matches(e.type));
  }
  if (tFrom !== null) tests.push((e) => compareTimestamps(tFrom, e.timestamp) <= 0);
  if (tTo !== null) tests.push((e) => compareTimestamps(e.timestamp, tTo) <= 0);
  // A source-time bound requires a source timestamp.
  if (sourceTFrom !== null) {
    tests.push((e) => e.sourceTimestamp !== null && compareTimestamps(sourceTFrom, e.sourceTimestamp) <= 0);
  }
  if (sourceTTo !== null) {
    tests.push((e) => e.sourceTimestamp !== null && compareTimestamps(e.sourceTimestamp, sourceTTo) <= 0);
  }
  if (payload !== null) tests.push((e) => e.payload !== null && payloadsEqual(e.payload, payload));
  return (e) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(e)) return false;
    return true;
  };
}

/**
 * Sorts in place by the `orderBy` key, ascending or descending. The sort is stable in both
 * directions (equal keys keep their input order), and events without a source timestamp go
 * last in both directions when ordering by source timestamp.
 */
function sortEvents(events: Event[], q: Pick<CompleteQueryData, 'order' | 'orderBy'>): Event[] {
  const sign = q.order === 'ascending' ? 1 : -1;
  const key: (e: Event) => Timestamp | null =
    q.orderBy === 'timestamp' ? (e) => e.timestamp : (e) => e.sourceTimestamp;
  return events.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === null || kb === null) return (ka === null ? 1 : 0) - (kb === null ? 1 : 0);
    return sign * compareTimestamps(ka, kb);
  });
}

/** The first event of each event type, in order. */
function keepFirstOfEachType(events: readonly Event[]): Event[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const key = eventTypeKey(e.type);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
