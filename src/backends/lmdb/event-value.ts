// The stored event value: SBS `HatEventer.Event`, as Hat 0.8 writes it. The one place the
// value codec is chosen.
import { decodeEvent, readEventId, readEventType, writeEvent } from '../../sbs/event-codec.ts';
import { SbsReader } from '../../sbs/reader.ts';
import { SbsWriter } from '../../sbs/writer.ts';
import type { Event, EventType } from '../../common/types.ts';
import { describeError } from '../../common/describe-error.ts';

/**
 * The values of a register batch, encoded into one buffer and handed out as views: one
 * allocation per batch instead of a writer and a copy per event (the write path's hot spot).
 * An event that `problem` finds fault with, or that cannot be encoded, gets the reason instead.
 */
export function encodeStoredEvents(events: Event[], problem: (index: number) => string | null): (Uint8Array | string)[] {
  const w = new SbsWriter(events.length * 128);
  const ends = new Array<number>(events.length);
  const refused = new Array<string | null>(events.length).fill(null);
  for (let i = 0; i < events.length; i++) {
    const start = w.pos;
    try {
      refused[i] = problem(i);
      if (refused[i] === null) writeEvent(w, events[i]!);
    } catch (err) {
      refused[i] = `cannot be encoded: ${describeError(err)}`;
      w.pos = start;
    }
    ends[i] = w.pos;
  }
  const all = w.finish();
  const values = new Array<Uint8Array | string>(events.length);
  let start = 0;
  for (let i = 0; i < events.length; i++) {
    values[i] = refused[i] ?? all.subarray(start, ends[i]);
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
