// The stored event value: SBS `HatEventer.Event`, as Hat 0.8 writes it. The one place the
// value codec is chosen.
import { decodeEvent, encodeEvent } from '../../sbs/event-codec.ts';
import type { Event } from '../../common/types.ts';

export function encodeStoredEvent(event: Event): Uint8Array {
  return encodeEvent(event);
}

export function decodeStoredEvent(bytes: Uint8Array): Event {
  return decodeEvent(bytes);
}
