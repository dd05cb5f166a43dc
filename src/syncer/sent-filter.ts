// What a Syncer server may still send one client (docs/protocol.md, Syncer, "What the server does", 6): only events of
// the server id the client asked for, and only ids above the last one sent. Backlog and live
// stream overlap by design (live is subscribed before the backlog is read); this removes the overlap.
import type { Event, EventId } from '../common/types.ts';
import { compareEventIds } from '../common/event-id.ts';

export class SentFilter {
  #last: EventId;

  constructor(lastEventId: EventId) {
    this.#last = { ...lastEventId };
  }

  /** The last id sent (initially the client's `lastEventId`). */
  get last(): EventId {
    return this.#last;
  }

  /**
   * The part of one session's events still to send: all of it, a tail of it, or null. Hat's rule,
   * kept for the wire: a list is judged by its first event (server, then session), and within the
   * session of the last id sent only higher ids pass; `sent` must then be called with the result.
   */
  admit(events: readonly Event[]): readonly Event[] | null {
    const first = events[0];
    if (first === undefined) return null;
    const last = this.#last;
    if (first.id.server !== last.server || first.id.session < last.session) return null;
    if (first.id.session > last.session) return events;
    let i = 0;
    while (i < events.length && compareEventIds(events[i]!.id, last) <= 0) i++;
    if (i === events.length) return null;
    return i === 0 ? events : events.slice(i);
  }

  sent(events: readonly Event[]): void {
    this.#last = events[events.length - 1]!.id;
  }
}
