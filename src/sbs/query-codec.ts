// Codec of HatEventer.QueryData (spec/protocol.md 3.1); absent fields take Hat's defaults.
import type { EventId, EventType, QueryData } from '../common/types.ts';
import type { CompleteQueryData } from '../common/query-data.ts';
import { decodeExactly, SbsReader } from './reader.ts';
import { encodeAlone, SbsWriter } from './writer.ts';
import {
  readEventId, readEventType, readOptionalPayload, readOptionalTimestamp, writeEventId,
  writeEventType, writeOptionalPayload, writeOptionalTimestamp,
} from './event-codec.ts';

export function writeQueryData(w: SbsWriter, q: QueryData): void {
  optional(w, q.serverId, (v) => w.integer(v));
  optional(w, q.ids, (ids) => {
    w.arrayLength(ids.length);
    for (const id of ids) writeEventId(w, id);
  });
  optional(w, q.types, (types) => {
    w.arrayLength(types.length);
    for (const t of types) writeEventType(w, t);
  });
  writeOptionalTimestamp(w, q.tFrom);
  writeOptionalTimestamp(w, q.tTo);
  writeOptionalTimestamp(w, q.sourceTFrom);
  writeOptionalTimestamp(w, q.sourceTTo);
  writeOptionalPayload(w, q.payload);
  w.choice(q.order === 'ascending' ? 1 : 0);
  w.choice(q.orderBy === 'sourceTimestamp' ? 1 : 0);
  w.boolean(q.uniqueType ?? false);
  optional(w, q.maxResults, (v) => w.integer(v));
}

function optional<T>(w: SbsWriter, value: T | null | undefined, write: (v: T) => void): void {
  if (value == null) w.choice(0);
  else {
    w.choice(1);
    write(value);
  }
}

/** Every field is present in the result, defaults filled in. */
export function readQueryData(r: SbsReader): CompleteQueryData {
  const serverId = r.choice(2, 'Optional(Integer)') === 0 ? null : r.integer();
  let ids: EventId[] | null = null;
  if (r.choice(2, 'Optional(Array(EventId))') === 1) {
    const count = r.arrayLength(3);
    ids = new Array<EventId>(count);
    for (let i = 0; i < count; i++) ids[i] = readEventId(r);
  }
  let types: EventType[] | null = null;
  if (r.choice(2, 'Optional(Array(EventType))') === 1) {
    const count = r.arrayLength();
    types = new Array<EventType>(count);
    for (let i = 0; i < count; i++) types[i] = readEventType(r);
  }
  const tFrom = readOptionalTimestamp(r);
  const tTo = readOptionalTimestamp(r);
  const sourceTFrom = readOptionalTimestamp(r);
  const sourceTTo = readOptionalTimestamp(r);
  const payload = readOptionalPayload(r);
  const order = r.choice(2, 'Order') === 0 ? 'descending' : 'ascending';
  const orderBy = r.choice(2, 'OrderBy') === 0 ? 'timestamp' : 'sourceTimestamp';
  const uniqueType = r.boolean();
  const maxResults = r.choice(2, 'Optional(Integer)') === 0 ? null : r.integer();
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
