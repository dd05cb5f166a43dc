// The data model shared by every layer (docs/api.md, "Data model"). Pure types, no code.

export type EventType = readonly string[];

export interface EventId {
  server: number;
  session: number;
  instance: number;
}

/** Seconds since the epoch (may be negative) and microseconds in [0, 1e6). */
export interface Timestamp {
  s: number;
  us: number;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface SbsData {
  module: string | null;
  type: string;
  data: Uint8Array;
}

/**
 * A JSON payload. `text`, when present, is the exact JSON text the payload arrived as
 * (from the wire or the database); encoders reuse it so Python's `1.0` stays `1.0` and
 * big integers keep their digits. `data` is then parsed lazily from it.
 */
export interface JsonPayload {
  type: 'json';
  data: JsonValue;
  readonly text?: string;
}

export type EventPayload =
  | { type: 'binary'; data: Uint8Array }
  | JsonPayload
  | { type: 'sbs'; data: SbsData };

export interface Event {
  id: EventId;
  type: EventType;
  timestamp: Timestamp;
  sourceTimestamp: Timestamp | null;
  payload: EventPayload | null;
}

export interface RegisterEvent {
  type: EventType;
  sourceTimestamp: Timestamp | null;
  payload: EventPayload | null;
}

export type Order = 'descending' | 'ascending';
export type OrderBy = 'timestamp' | 'sourceTimestamp';

export interface QueryData {
  serverId?: number | null;
  ids?: EventId[] | null;
  types?: EventType[] | null;
  tFrom?: Timestamp | null;
  tTo?: Timestamp | null;
  sourceTFrom?: Timestamp | null;
  sourceTTo?: Timestamp | null;
  payload?: EventPayload | null;
  order?: Order;
  orderBy?: OrderBy;
  uniqueType?: boolean;
  maxResults?: number | null;
}

export type SourceType = 'syncer' | 'eventer' | 'module' | 'engine';

export interface Source {
  type: SourceType;
  id: number;
}
