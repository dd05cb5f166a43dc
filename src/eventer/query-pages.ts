// Paging for a large query over Hat 0.8's wire, which has none: each page is an ordinary query
// for at most `pageSize` more events, starting where the last page ended. A server answers at
// most its `max_query_results` (a larger query fails whole: our lmdb backend closes the
// connection, as Hat does for any failed request), so a page size within that bound reads any
// answer, one page in memory at a time.
//
// A page starts at the time of the last event handed out (tFrom, or tTo when descending; the
// source-time bounds when ordering by source timestamp), inclusive, because events share a
// time (all of a session's do). Events already handed out at that time come again and are
// dropped by id; only when at least a page of them share that time does the next page ask for
// more than `pageSize` (so keep `pageSize` below max_query_results by the largest number of
// events that share a time, e.g. a session). With uniqueType a
// type handed out on an earlier page is dropped from later ones. Events without a source
// timestamp cannot be bounded by source time, so source-time paging ends at the first one (an
// lmdb source-timestamp partition holds none).
import { eventIdKey } from '../common/event-id.ts';
import { eventTypeKey } from '../common/event-type.ts';
import { completeQueryData, type CompleteQueryData } from '../common/query-data.ts';
import { compareTimestamps } from '../common/timestamp.ts';
import type { Event, QueryData, Timestamp } from '../common/types.ts';

export async function* queryPages(query: (data: QueryData) => Promise<Event[]>, data: QueryData, pageSize: number): AsyncGenerator<Event[]> {
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  const q = completeQueryData(data);
  const keyOf = q.orderBy === 'timestamp' ? (e: Event) => e.timestamp : (e: Event) => e.sourceTimestamp;
  const seenTypes = q.uniqueType ? new Set<string>() : null;
  let remaining = q.maxResults === null ? Infinity : Math.max(q.maxResults, 0);
  let bound: Timestamp | null = null;
  /** ids handed out (or dropped) whose time is `bound` */
  let atBound = new Set<string>();
  while (remaining > 0) {
    const wanted = Math.min(pageSize, remaining);
    // The events handed out at the bound come again: a page asks for more than pageSize only
    // when more than that share the bound's time (it could not get past them otherwise).
    const request = atBound.size < wanted ? wanted : atBound.size + wanted;
    const raw = await query(pageQuery(q, bound, request));
    const page: Event[] = [];
    let consumed = raw.length;
    for (let i = 0; i < raw.length; i++) {
      const event = raw[i]!;
      if (atBound.has(eventIdKey(event.id))) continue;
      const typeKey = seenTypes === null ? '' : eventTypeKey(event.type);
      if (seenTypes?.has(typeKey)) continue;
      if (page.length === wanted) {
        consumed = i;
        break;
      }
      seenTypes?.add(typeKey);
      page.push(event);
    }
    if (page.length > 0) {
      remaining -= page.length;
      yield page;
    }
    if (raw.length < request && consumed === raw.length) return; // nothing more in range
    const last = keyOf(raw[consumed - 1]!);
    if (last === null) return;
    if (bound === null || compareTimestamps(last, bound) !== 0) {
      bound = last;
      atBound = new Set();
    }
    for (let i = 0; i < consumed; i++) {
      const time = keyOf(raw[i]!);
      if (time !== null && compareTimestamps(time, bound) === 0) atBound.add(eventIdKey(raw[i]!.id));
    }
  }
}

/** `q` from `bound` on (inclusive, in the query's order), for at most `maxResults` events. */
function pageQuery(q: CompleteQueryData, bound: Timestamp | null, maxResults: number): QueryData {
  if (bound === null) return { ...q, maxResults };
  const ascending = q.order === 'ascending';
  if (q.orderBy === 'timestamp') return ascending ? { ...q, tFrom: bound, maxResults } : { ...q, tTo: bound, maxResults };
  return ascending ? { ...q, sourceTFrom: bound, maxResults } : { ...q, sourceTTo: bound, maxResults };
}
