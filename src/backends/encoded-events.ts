// A query's answer in the form the eventer sends it (MsgQueryRes is Array(Event)): the
// events' SBS encodings back to back, in chunks, so a backend that reads stored encodings can
// hand them over without decoding and the eventer writes them without copying.
import type { Event } from '../common/types.ts';
import { writeEvent } from '../sbs/event-codec.ts';
import { SbsWriter } from '../sbs/writer.ts';

export interface EncodedEvents {
  count: number;
  /** concatenated, the `count` events' encodings in order */
  chunks: readonly Uint8Array[];
}

/** The encodings of `events`, back to back, in one buffer. */
export function encodeEventBodies(events: readonly Event[]): Uint8Array {
  const w = new SbsWriter(events.length * 96);
  for (const event of events) writeEvent(w, event);
  return w.finish();
}

export function encodedEvents(events: readonly Event[]): EncodedEvents {
  return { count: events.length, chunks: events.length === 0 ? [] : [encodeEventBodies(events)] };
}
