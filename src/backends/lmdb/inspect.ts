// The rows of an event database file as they are stored, for the `lmdb query` command: no
// configuration, no conditions, no routing; every table read raw through the layout's codecs.
import { Subscription } from '../../common/subscription.ts';
import type { Event, EventId, EventType, JsonValue, Timestamp } from '../../common/types.ts';
import { decodeStoredEvent, peekStoredEventType } from './event-value.ts';
import { orderedBound, orderedKeyEventId, readSystemValue, readU64 } from './keys.ts';
import type { ReadOnlyEnvironment } from './read-only.ts';

export interface SystemRow {
  serverId: number;
  /** the last event id the server registered, and its timestamp */
  id: EventId;
  timestamp: Timestamp;
}

export interface PartitionRow {
  id: number;
  /** the stored identity: `{order, subscriptions}` (and a marker on our archive partition) */
  identity: JsonValue;
  /** ORDERED_COUNT of the partition */
  count: number;
}

/** Each field null (or absent): any. */
export interface EventFilter {
  server?: number | null;
  session?: number | null;
  instance?: number | null;
  /** query types (`?` and a trailing `*` allowed); any one matching is enough */
  types?: EventType[] | null;
}

export function* systemRows(env: ReadOnlyEnvironment, serverId: number | null = null): Generator<SystemRow> {
  for (const { key, value } of env.rows(env.dbs.SYSTEM)) {
    const server = readU64(key, 0);
    if (serverId !== null && server !== serverId) continue;
    yield { serverId: server, ...readSystemValue(value) };
  }
}

export function* partitionRows(env: ReadOnlyEnvironment, partitionId: number | null = null): Generator<PartitionRow> {
  for (const { key, value } of env.rows(env.dbs.ORDERED_PARTITION)) {
    const id = readU64(key, 0);
    if (partitionId !== null && id !== partitionId) continue;
    const count = env.get(env.dbs.ORDERED_COUNT, key);
    yield { id, identity: JSON.parse(value.toString('utf8')) as JsonValue, count: count === undefined ? 0 : readU64(count, 0) };
  }
}

/** LATEST_DATA events, in type_ref order (the order types were first stored). */
export function* latestEvents(env: ReadOnlyEnvironment, filter: EventFilter = {}): Generator<Event> {
  const accept = compileFilter(filter);
  for (const { value } of env.rows(env.dbs.LATEST_DATA)) {
    const event = accept(null, value);
    if (event !== null) yield event;
  }
}

/** ORDERED_DATA events in key order: by partition, then key time, then event id. */
export function* orderedEvents(env: ReadOnlyEnvironment, partitionId: number | null, filter: EventFilter = {}): Generator<Event> {
  const accept = compileFilter(filter);
  const range = partitionId === null ? {} : { start: orderedBound(partitionId, null, false), end: orderedBound(partitionId, null, true) };
  for (const { key, value } of env.rows(env.dbs.ORDERED_DATA, range)) {
    const event = accept(orderedKeyEventId(key), value);
    if (event !== null) yield event;
  }
}

/** The filter as a function of a stored value (and its id when the key holds it): the event or null. */
function compileFilter(filter: EventFilter): (id: EventId | null, value: Uint8Array) => Event | null {
  const { server = null, session = null, instance = null, types = null } = filter;
  const subscription = types === null ? null : new Subscription(types);
  const idMatches = (id: EventId): boolean =>
    (server === null || id.server === server) && (session === null || id.session === session) &&
    (instance === null || id.instance === instance);
  return (id, value) => {
    if (id !== null && !idMatches(id)) return null;
    if (subscription !== null && !subscription.matches(peekStoredEventType(value))) return null;
    const event = decodeStoredEvent(value);
    return id === null && !idMatches(event.id) ? null : event;
  };
}
