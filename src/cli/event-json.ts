// The JSON form of events on the command line (`lmdb query`, `eventer`), one object per line,
// with the field names of Hat's own tools:
//
//   {"event_id": {"server": 1, "session": 4, "instance": 2}, "event_type": ["a", "b"],
//    "timestamp": "2024-05-01T10:00:00.000123Z", "source_timestamp": null,
//    "payload": {"type": "JSON", "data": {"value": 1.0}}}
//
// Timestamps are ISO 8601 UTC with six fraction digits (exact), or {"s", "us"} beyond the years
// a Date can hold. A JSON payload is written as the exact text it was stored or sent as, so
// Python's `1.0` and integers past 2^53 come out as they went in. Binary data is hex.
import { jsonPayloadFromText, jsonPayloadText } from '../common/json-payload.ts';
import { now, timestampFromDate, timestampToIsoString } from '../common/timestamp.ts';
import type { Event, EventId, EventPayload, EventType, JsonValue, RegisterEvent, Timestamp } from '../common/types.ts';

/** Stands for the payload's data while the rest is stringified; the payload is the last field. */
const PAYLOAD_SLOT = '\u0000payload\u0000';

export function eventJson(event: Event, indent?: number): string {
  const { payload } = event;
  const shape = {
    event_id: eventIdJson(event.id),
    event_type: event.type,
    timestamp: timestampJson(event.timestamp),
    source_timestamp: event.sourceTimestamp === null ? null : timestampJson(event.sourceTimestamp),
    payload: payload === null ? null
      : payload.type === 'json' ? { type: 'JSON', data: PAYLOAD_SLOT }
      : payload.type === 'binary' ? { type: 'BINARY', data: hex(payload.data) }
      : { type: 'SBS', data: { module: payload.data.module, type: payload.data.type, data: hex(payload.data.data) } },
  };
  const text = JSON.stringify(shape, null, indent);
  if (payload?.type !== 'json') return text;
  const slot = JSON.stringify(PAYLOAD_SLOT);
  const at = text.lastIndexOf(slot);
  return text.slice(0, at) + jsonPayloadText(payload) + text.slice(at + slot.length);
}

export function eventIdJson(id: EventId): { server: number; session: number; instance: number } {
  return { server: id.server, session: id.session, instance: id.instance };
}

export function timestampJson(t: Timestamp): string | { s: number; us: number } {
  try {
    return timestampToIsoString(t);
  } catch {
    return { s: t.s, us: t.us };
  }
}

/** A timestamp given on the command line: ISO 8601 (UTC unless it names a zone) or `now`. */
export function parseTimestampArg(text: string, what: string): Timestamp {
  if (text === 'now') return now();
  try {
    return timestampFromDate(text);
  } catch {
    throw new TypeError(`${what}: not an ISO 8601 date-time or 'now': ${JSON.stringify(text)}`);
  }
}

/** `a/b/*` -> ['a', 'b', '*']; the empty string is the empty type. */
export function parseEventTypeArg(text: string): EventType {
  return text === '' ? [] : text.split('/');
}

/**
 * An event to register from one line of JSON text, its JSON payload kept as the exact text of
 * `payload.data` in the line (so `1.0` stays a float for Python clients, as with --json).
 */
export function registerEventFromLine(line: string): RegisterEvent {
  const event = registerEventFromJson(JSON.parse(line));
  if (event.payload?.type !== 'json') return event;
  return { ...event, payload: jsonPayloadFromText(memberText(memberText(line, 'payload')!, 'data')!) };
}

/** The text of member `key` of the object that is the JSON text `text` (valid JSON); the last one, as JSON.parse. */
function memberText(text: string, key: string): string | null {
  let found: string | null = null;
  let i = skipSpace(text, skipSpace(text, 0) + 1); // past '{'
  while (text[i] === '"') {
    const nameEnd = valueEnd(text, i);
    const name = JSON.parse(text.slice(i, nameEnd)) as string;
    const start = skipSpace(text, skipSpace(text, nameEnd) + 1); // past ':'
    const end = valueEnd(text, start);
    if (name === key) found = text.slice(start, end);
    i = skipSpace(text, end);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  return found;
}

/** Where the JSON value starting at `i` ends (the text is valid JSON). */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === '"') {
      for (j += 1; text[j] !== '"'; j += text[j] === '\\' ? 2 : 1);
      if (depth === 0) return j + 1;
    } else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      if (depth === 0) return j; // a number, true, false or null right before its object's end
      depth -= 1;
      if (depth === 0) return j + 1;
    } else if (depth === 0 && (c === ',' || c === ' ' || c === '\t' || c === '\n' || c === '\r')) return j;
  }
  return text.length;
}

function skipSpace(text: string, i: number): number {
  while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r') i += 1;
  return i;
}

/** An event to register, from one JSON value; `event_id` and `timestamp` (query output) are ignored. */
export function registerEventFromJson(value: unknown): RegisterEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('not a JSON object');
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!['event_type', 'source_timestamp', 'payload', 'event_id', 'timestamp'].includes(key)) throw new TypeError(`unknown key '${key}'`);
  }
  const type = fields['event_type'];
  if (!Array.isArray(type) || !type.every((s) => typeof s === 'string')) throw new TypeError('event_type: expected an array of strings');
  const sourceTimestamp = fields['source_timestamp'] ?? null;
  return {
    type,
    sourceTimestamp: sourceTimestamp === null ? null : timestampFromJson(sourceTimestamp, 'source_timestamp'),
    payload: payloadFromJson(fields['payload'] ?? null),
  };
}

function timestampFromJson(value: unknown, what: string): Timestamp {
  if (typeof value === 'string') return parseTimestampArg(value, what);
  const t = value as { s?: unknown; us?: unknown } | null;
  if (t !== null && typeof t === 'object' && Number.isSafeInteger(t.s) && Number.isInteger(t.us) && (t.us as number) >= 0 && (t.us as number) < 1e6) {
    return { s: t.s as number, us: t.us as number };
  }
  throw new TypeError(`${what}: expected an ISO 8601 date-time or {"s": integer, "us": 0..999999}`);
}

export function payloadFromJson(value: unknown): EventPayload | null {
  if (value === null) return null;
  const p = value as { type?: unknown; data?: unknown };
  if (typeof p !== 'object' || Array.isArray(p) || !('data' in p)) throw new TypeError('payload: expected null or {"type": ..., "data": ...}');
  switch (p.type) {
    case 'JSON':
      return { type: 'json', data: p.data as JsonValue };
    case 'BINARY':
      return { type: 'binary', data: bytesFromHex(p.data, 'payload.data') };
    case 'SBS': {
      const d = p.data as { module?: unknown; type?: unknown; data?: unknown } | null;
      if (d === null || typeof d !== 'object' || (d.module !== null && typeof d.module !== 'string') || typeof d.type !== 'string') {
        throw new TypeError('payload.data: expected {"module": string or null, "type": string, "data": hex}');
      }
      return { type: 'sbs', data: { module: d.module, type: d.type, data: bytesFromHex(d.data, 'payload.data.data') } };
    }
    default:
      throw new TypeError(`payload.type: expected "JSON", "BINARY" or "SBS", got ${JSON.stringify(p.type)}`);
  }
}

export function bytesFromHex(text: unknown, what: string): Uint8Array {
  if (typeof text !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new TypeError(`${what}: expected hex digits, two per byte`);
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}
