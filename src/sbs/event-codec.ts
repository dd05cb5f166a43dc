// Codecs of the HatEventer records (docs/protocol.md, "Records"): Timestamp, EventId, EventType,
// EventPayload, Event, RegisterEvent. `writeX`/`readX` work inside a larger message;
// `encodeX`/`decodeX` are the stand-alone forms (storage, tests).
import type { Event, EventId, EventPayload, EventType, RegisterEvent, SbsData, Timestamp } from '../common/types.ts';
import { jsonPayloadFromText, jsonPayloadText } from '../common/json-payload.ts';
import { SbsError } from './errors.ts';
import { decodeExactly, readString, SbsReader } from './reader.ts';
import { encodeAlone, SbsWriter, writeString } from './writer.ts';

export function writeTimestamp(w: SbsWriter, t: Timestamp): void {
  w.integer(t.s);
  w.integer(t.us);
}

export function readTimestamp(r: SbsReader): Timestamp {
  const s = r.integer();
  return { s, us: r.integer() };
}

export function writeOptionalTimestamp(w: SbsWriter, t: Timestamp | null | undefined): void {
  w.optional(t, writeTimestamp);
}

export function readOptionalTimestamp(r: SbsReader): Timestamp | null {
  return r.optional('Timestamp', readTimestamp);
}

export function writeEventId(w: SbsWriter, id: EventId): void {
  w.integer(id.server);
  w.integer(id.session);
  w.integer(id.instance);
}

export function readEventId(r: SbsReader): EventId {
  const server = r.integer();
  const session = r.integer();
  return { server, session, instance: r.integer() };
}

export function writeEventType(w: SbsWriter, type: EventType): void {
  w.arrayLength(type.length);
  for (let i = 0; i < type.length; i++) w.string(type[i]!);
}

export function readEventType(r: SbsReader): string[] {
  const count = r.arrayLength();
  const type = new Array<string>(count);
  for (let i = 0; i < count; i++) type[i] = r.string();
  return type;
}

/** `Array(EventType)`: MsgSubscribe, and QueryData.types. */
export function writeEventTypes(w: SbsWriter, types: readonly EventType[]): void {
  w.arrayLength(types.length);
  for (const t of types) writeEventType(w, t);
}

export function readEventTypes(r: SbsReader): EventType[] {
  const types = new Array<EventType>(r.arrayLength());
  for (let i = 0; i < types.length; i++) types[i] = readEventType(r);
  return types;
}

export function writeSbsData(w: SbsWriter, data: SbsData): void {
  w.optional(data.module, writeString);
  w.string(data.type);
  w.bytes(data.data);
}

/** `Hat.Data`; the bytes are copied so the result does not pin the input buffer. */
export function readSbsData(r: SbsReader): SbsData {
  const module = r.optional('String', readString);
  const type = r.string();
  return { module, type, data: r.bytesCopy() };
}

const PAYLOAD_BINARY = 0;
const PAYLOAD_JSON = 1;
const PAYLOAD_SBS = 2;

export function writePayload(w: SbsWriter, payload: EventPayload): void {
  switch (payload.type) {
    case 'binary':
      w.choice(PAYLOAD_BINARY);
      w.bytes(payload.data);
      return;
    case 'json':
      w.choice(PAYLOAD_JSON);
      w.string(jsonPayloadText(payload));
      return;
    case 'sbs':
      w.choice(PAYLOAD_SBS);
      writeSbsData(w, payload.data);
      return;
    default:
      throw new SbsError('invalid-value', `unknown payload type ${(payload as { type: unknown }).type}`);
  }
}

/** JSON payloads keep their text and parse on first access of `data`. */
export function readPayload(r: SbsReader): EventPayload {
  switch (r.choice(3, 'EventPayload')) {
    case PAYLOAD_BINARY:
      return { type: 'binary', data: r.bytesCopy() };
    case PAYLOAD_JSON:
      return jsonPayloadFromText(r.string());
    default:
      return { type: 'sbs', data: readSbsData(r) };
  }
}

export function writeOptionalPayload(w: SbsWriter, payload: EventPayload | null | undefined): void {
  w.optional(payload, writePayload);
}

export function readOptionalPayload(r: SbsReader): EventPayload | null {
  return r.optional('EventPayload', readPayload);
}

export function writeEvent(w: SbsWriter, event: Event): void {
  writeEventId(w, event.id);
  writeEventType(w, event.type);
  writeTimestamp(w, event.timestamp);
  writeOptionalTimestamp(w, event.sourceTimestamp);
  writeOptionalPayload(w, event.payload);
}

export function readEvent(r: SbsReader): Event {
  const id = readEventId(r);
  const type = readEventType(r);
  const timestamp = readTimestamp(r);
  const sourceTimestamp = readOptionalTimestamp(r);
  return { id, type, timestamp, sourceTimestamp, payload: readOptionalPayload(r) };
}

export function writeRegisterEvent(w: SbsWriter, event: RegisterEvent): void {
  writeEventType(w, event.type);
  writeOptionalTimestamp(w, event.sourceTimestamp);
  writeOptionalPayload(w, event.payload);
}

export function readRegisterEvent(r: SbsReader): RegisterEvent {
  const type = readEventType(r);
  const sourceTimestamp = readOptionalTimestamp(r);
  return { type, sourceTimestamp, payload: readOptionalPayload(r) };
}

export function writeEvents(w: SbsWriter, events: readonly Event[]): void {
  w.arrayLength(events.length);
  for (const event of events) writeEvent(w, event);
}

export function readEvents(r: SbsReader): Event[] {
  // An Event takes at least 8 bytes (see the minimal-event vector).
  const count = r.arrayLength(8);
  const events = new Array<Event>(count);
  for (let i = 0; i < count; i++) events[i] = readEvent(r);
  return events;
}

/** The SBS `HatEventer.Event` record as an exact-size byte array. */
export function encodeEvent(event: Event): Uint8Array {
  return encodeAlone(event, writeEvent);
}

/** Strict: the bytes must hold exactly one Event. */
export function decodeEvent(bytes: Uint8Array): Event {
  return decodeExactly(bytes, 'HatEventer.Event', readEvent);
}

export function encodeRegisterEvent(event: RegisterEvent): Uint8Array {
  return encodeAlone(event, writeRegisterEvent);
}

export function decodeRegisterEvent(bytes: Uint8Array): RegisterEvent {
  return decodeExactly(bytes, 'HatEventer.RegisterEvent', readRegisterEvent);
}
