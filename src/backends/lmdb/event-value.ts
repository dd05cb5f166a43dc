// The stored event value: SBS `HatEventer.Event`, as Hat 0.8 writes it. The one place the
// value codec is chosen.
import { decodeEvent, readEventId, readEventType, writeEvent } from '../../sbs/event-codec.ts';
import { SbsReader } from '../../sbs/reader.ts';
import { SbsWriter } from '../../sbs/writer.ts';
import type { Event, EventType } from '../../common/types.ts';

/**
 * The values of a register batch, encoded into one buffer and handed out as views: one
 * allocation per batch instead of a writer and a copy per event (the write path's hot spot).
 * `onError(index, err)` is called for an event that cannot be encoded and must throw.
 */
export function encodeStoredEvents(events: Event[], onError: (index: number, err: unknown) => never): Uint8Array[] {
  const w = new SbsWriter(events.length * 128);
  const ends = new Array<number>(events.length);
  for (let i = 0; i < events.length; i++) {
    try {
      writeEvent(w, events[i]!);
    } catch (err) {
      onError(i, err);
    }
    ends[i] = w.pos;
  }
  const all = w.finish();
  const values = new Array<Uint8Array>(events.length);
  let start = 0;
  for (let i = 0; i < events.length; i++) {
    values[i] = all.subarray(start, ends[i]);
    start = ends[i]!;
  }
  return values;
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
