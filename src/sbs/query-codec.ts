// Codec of HatEventer.QueryData (docs/protocol.md, "Records"); absent fields take Hat's defaults.
import type { EventId, QueryData } from '../common/types.ts';
import type { CompleteQueryData } from '../common/query-data.ts';
import { decodeExactly, readInteger, SbsReader } from './reader.ts';
import { encodeAlone, SbsWriter, writeInteger } from './writer.ts';
import {
  readEventId, readEventTypes, readOptionalPayload, readOptionalTimestamp, writeEventId,
  writeEventTypes, writeOptionalPayload, writeOptionalTimestamp,
} from './event-codec.ts';

function writeEventIds(w: SbsWriter, ids: readonly EventId[]): void {
  w.arrayLength(ids.length);
  for (const id of ids) writeEventId(w, id);
}

function readEventIds(r: SbsReader): EventId[] {
  const ids = new Array<EventId>(r.arrayLength(3));
  for (let i = 0; i < ids.length; i++) ids[i] = readEventId(r);
  return ids;
}

export function writeQueryData(w: SbsWriter, q: QueryData): void {
  w.optional(q.serverId, writeInteger);
  w.optional(q.ids, writeEventIds);
  w.optional(q.types, writeEventTypes);
  writeOptionalTimestamp(w, q.tFrom);
  writeOptionalTimestamp(w, q.tTo);
  writeOptionalTimestamp(w, q.sourceTFrom);
  writeOptionalTimestamp(w, q.sourceTTo);
  writeOptionalPayload(w, q.payload);
  w.choice(q.order === 'ascending' ? 1 : 0);
  w.choice(q.orderBy === 'sourceTimestamp' ? 1 : 0);
  w.boolean(q.uniqueType ?? false);
  w.optional(q.maxResults, writeInteger);
}

/** Every field is present in the result, defaults filled in. */
export function readQueryData(r: SbsReader): CompleteQueryData {
  const serverId = r.optional('Integer', readInteger);
  const ids = r.optional('Array(EventId)', readEventIds);
  const types = r.optional('Array(EventType)', readEventTypes);
  const tFrom = readOptionalTimestamp(r);
  const tTo = readOptionalTimestamp(r);
  const sourceTFrom = readOptionalTimestamp(r);
  const sourceTTo = readOptionalTimestamp(r);
  const payload = readOptionalPayload(r);
  const order = r.choice(2, 'Order') === 0 ? 'descending' : 'ascending';
  const orderBy = r.choice(2, 'OrderBy') === 0 ? 'timestamp' : 'sourceTimestamp';
  const uniqueType = r.boolean();
  const maxResults = r.optional('Integer', readInteger);
  return {
    serverId, ids, types, tFrom, tTo, sourceTFrom, sourceTTo, payload, order, orderBy, uniqueType, maxResults,
  };
}

export function encodeQueryData(q: QueryData): Uint8Array {
  return encodeAlone(q, writeQueryData, 64);
}

export function decodeQueryData(bytes: Uint8Array): CompleteQueryData {
  return decodeExactly(bytes, 'HatEventer.QueryData', readQueryData);
}
