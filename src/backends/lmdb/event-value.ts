// The stored event value: SBS `HatEventer.Event`, as Hat 0.8 writes it. The one place the
// value codec is chosen.
import { decodeEvent, encodeEvent, readEventId, readEventType } from '../../sbs/event-codec.ts';
import { SbsReader } from '../../sbs/reader.ts';
import type { Event, EventType } from '../../common/types.ts';

export function encodeStoredEvent(event: Event): Uint8Array {
  return encodeEvent(event);
}

export function decodeStoredEvent(bytes: Uint8Array): Event {
  return decodeEvent(bytes);
}

/** Only the event type (it follows the id), so type-filtered scans skip decoding the rest. */
export function peekStoredEventType(bytes: Uint8Array): EventType {
  const reader = new SbsReader(bytes);
  readEventId(reader);
  return readEventType(reader);
}
