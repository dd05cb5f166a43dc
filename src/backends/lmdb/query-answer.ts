// A query's answer as parts that are each either encoded (stored values, straight from a
// scan) or events (from memory), so the eventer sends the scan's bytes untouched and only an
// in-process caller pays for decoding; and the merge that builds it from a scan of the
// committed entries and the unflushed ones.
import { eventTypeKey } from '../../common/event-type.ts';
import type { Event } from '../../common/types.ts';
import { readEvent } from '../../sbs/event-codec.ts';
import { SbsReader } from '../../sbs/reader.ts';
import { encodeEventBodies, type EncodedEvents } from '../encoded-events.ts';
import { peekStoredEventType } from './event-value.ts';
import { ORDERED_KEY_SIZE } from './keys.ts';
import type { ScanResult } from './scan.ts';
import type { PendingEntry } from './sorted-entries.ts';

/** `count` events, as their encodings back to back (`bytes`) or as objects (`events`), or both. */
interface Part {
  count: number;
  bytes: Uint8Array | null;
  events: readonly Event[] | null;
}

/** Small encoded parts are joined into one chunk up to this size, so a socket gets few writes. */
const JOIN_BELOW = 64 * 1024;

export class QueryAnswer {
  readonly count: number;
  readonly #parts: readonly Part[];

  constructor(parts: readonly Part[]) {
    this.#parts = parts;
    this.count = parts.reduce((n, p) => n + p.count, 0);
  }

  static ofEvents(events: readonly Event[]): QueryAnswer {
    return new QueryAnswer(events.length === 0 ? [] : [{ count: events.length, bytes: null, events }]);
  }

  events(): Event[] {
    const out: Event[] = [];
    for (const part of this.#parts) {
      if (part.events !== null) {
        for (const event of part.events) out.push(event);
        continue;
      }
      const r = new SbsReader(part.bytes!);
      for (let i = 0; i < part.count; i++) out.push(readEvent(r));
    }
    return out;
  }

  encoded(): EncodedEvents {
    const chunks: Uint8Array[] = [];
    let small: Uint8Array[] = [];
    let smallBytes = 0;
    const joinSmall = (): void => {
      if (small.length === 1) chunks.push(small[0]!);
      else if (small.length > 1) chunks.push(Buffer.concat(small, smallBytes));
      small = [];
      smallBytes = 0;
    };
    for (const part of this.#parts) {
      const bytes = part.bytes ?? encodeEventBodies(part.events!);
      if (bytes.length >= JOIN_BELOW) {
        joinSmall();
        chunks.push(bytes);
      } else {
        small.push(bytes);
        smallBytes += bytes.length;
        if (smallBytes >= JOIN_BELOW) joinSmall();
      }
    }
    joinSmall();
    return { count: this.count, chunks };
  }
}

/**
 * The scan's matches and the unflushed ones (already filtered, in the query's order) merged by
 * key; an entry in both (committed while still held in memory) comes once, as the unflushed
 * one. Unique type holds across both; at most `max` events.
 */
export function mergeAnswer(scan: ScanResult, unflushed: readonly PendingEntry[], descending: boolean, uniqueType: boolean, max: number): QueryAnswer {
  const { count, offsets, values } = scan;
  if (unflushed.length === 0) {
    const n = Math.min(count, max);
    return new QueryAnswer(n === 0 ? [] : [{ count: n, bytes: values.subarray(0, offsets[n]), events: null }]);
  }
  const keys = Buffer.from(scan.keys!.buffer, scan.keys!.byteOffset, scan.keys!.length);
  const sign = descending ? -1 : 1;
  const seen = uniqueType ? new Set<string>() : null;
  const parts: Part[] = [];
  let run = -1; // first scan match of the current run of scan matches, -1: none
  let i = 0;
  let j = 0;
  let taken = 0;
  const endRun = (): void => {
    if (run < 0) return;
    parts.push({ count: i - run, bytes: values.subarray(offsets[run], offsets[i]), events: null });
    run = -1;
  };
  while (taken < max && (i < count || j < unflushed.length)) {
    const entry = unflushed[j];
    if (seen === null && i < count) {
      // The scan's matches before the next held entry, at once: the main thread's work follows
      // the held entries, not the size of the answer.
      const before = entry === undefined ? count : firstNotBefore(keys, i, count, entry.key, sign);
      const n = Math.min(before - i, max - taken);
      if (n > 0) {
        if (run < 0) run = i;
        i += n;
        taken += n;
        continue;
      }
    }
    const c = entry === undefined ? 1
      : i >= count ? -1
      : sign * entry.key.compare(keys, i * ORDERED_KEY_SIZE, (i + 1) * ORDERED_KEY_SIZE);
    if (c >= 0) {
      // c === 0: the same entry committed and still held; the held one follows
      const skip = c === 0 || (seen !== null && !firstOfType(seen, peekStoredEventType(values.subarray(offsets[i], offsets[i + 1]))));
      if (skip) {
        endRun();
        i++;
        continue;
      }
      if (run < 0) run = i;
      i++;
      taken++;
      continue;
    }
    endRun();
    j++;
    if (seen !== null && !firstOfType(seen, entry!.event.type)) continue;
    parts.push({ count: 1, bytes: entry!.value, events: [entry!.event] });
    taken++;
  }
  endRun();
  return new QueryAnswer(parts);
}

/** The first index in from..to whose key is not before `key` in the answer's order. */
function firstNotBefore(keys: Buffer, from: number, to: number, key: Buffer, sign: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sign * key.compare(keys, mid * ORDERED_KEY_SIZE, (mid + 1) * ORDERED_KEY_SIZE) > 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstOfType(seen: Set<string>, type: readonly string[]): boolean {
  const key = eventTypeKey(type as string[]);
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}
