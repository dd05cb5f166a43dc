// LATEST_DATA / LATEST_TYPE sub-dbs: the newest event of each event type matched by the latest
// subscription. The in-memory map (event type -> event) answers unique-type queries and
// includes unflushed events; a flush writes only the final event of each type per window.
import { compareEventIds } from '../../common/event-id.ts';
import { eventTypeKey } from '../../common/event-type.ts';
import { Subscription } from '../../common/subscription.ts';
import { compareTimestamps } from '../../common/timestamp.ts';
import type { Event, EventId, EventType, Timestamp } from '../../common/types.ts';
import type { Conditions } from './conditions.ts';
import type { Environment, WriteOp } from './environment.ts';
import { decodeStoredEvent } from './event-value.ts';
import { readU64, u64Bytes } from './keys.ts';
import { pythonJsonText } from '../../common/json-payload.ts';
import type { TypeInfo } from './type-info.ts';

/** The last event of a type registered in the window (one object per type and window). */
interface LatestSlot {
  event: Event;
  value: Uint8Array;
  /** its acceptance number (store.ts) */
  seq: number;
}

interface LatestPending {
  /** type_ref -> the last event of that type registered in the window */
  data: Map<number, LatestSlot>;
  types: [number, EventType][];
}

export class LatestDb {
  readonly subscription: Subscription;
  readonly #events = new Map<string, Event>();
  readonly #typeRefs = new Map<string, number>();
  /** type_ref -> id of the event its LATEST_DATA row holds on disk (visible or not) */
  readonly #committedIds = new Map<number, EventId>();
  #pending: LatestPending = { data: new Map(), types: [] };

  /** Loads the committed rows; rows outside the subscription or conditions stay hidden. */
  constructor(env: Environment, subscriptions: EventType[], conditions: Conditions) {
    this.subscription = new Subscription(subscriptions);
    for (const { key, value } of env.dbs.LATEST_TYPE.getRange()) {
      const type = JSON.parse(value.toString('utf8')) as string[];
      this.#typeRefs.set(eventTypeKey(type), readU64(key, 0));
    }
    for (const { key, value } of env.dbs.LATEST_DATA.getRange()) {
      const event = decodeStoredEvent(value);
      this.#committedIds.set(readU64(key, 0), event.id);
      if (this.subscription.matches(event.type) && conditions.matches(event)) {
        this.#events.set(eventTypeKey(event.type), event);
      }
    }
  }

  /** Stores `event` (accepted as number `seq`) if the subscription matches it; true when stored. */
  add(event: Event, value: Uint8Array, seq: number, type: TypeInfo): boolean {
    if (!this.subscription.matches(event.type)) return false;
    const typeKey = type.key;
    let typeRef = this.#typeRefs.get(typeKey);
    if (typeRef === undefined) {
      typeRef = this.#typeRefs.size + 1;
      this.#typeRefs.set(typeKey, typeRef);
      this.#pending.types.push([typeRef, event.type]);
    }
    this.#events.set(typeKey, event);
    const slot = this.#pending.data.get(typeRef);
    if (slot === undefined) {
      this.#pending.data.set(typeRef, { event, value, seq });
    } else {
      slot.event = event;
      slot.value = value;
      slot.seq = seq;
    }
    return true;
  }

  /**
   * Newest first by (timestamp, id). `types` null means every type; a type list without
   * wildcards is looked up directly (each type once, unlike Hat which repeats a listed-twice type).
   */
  query(types: EventType[] | null, tFrom: Timestamp | null, maxResults: number | null): Event[] {
    let events: Event[];
    if (types === null) {
      events = [...this.#events.values()];
    } else if (types.some((t) => t.includes('*') || t.includes('?'))) {
      const sub = new Subscription(types);
      events = [...this.#events.values()].filter((e) => sub.matches(e.type));
    } else {
      const keys = new Set(types.map(eventTypeKey));
      events = [];
      for (const key of keys) {
        const event = this.#events.get(key);
        if (event !== undefined) events.push(event);
      }
    }
    if (tFrom !== null) events = events.filter((e) => compareTimestamps(tFrom, e.timestamp) <= 0);
    events.sort((a, b) => compareTimestamps(b.timestamp, a.timestamp) || compareEventIds(b.id, a.id));
    return maxResults === null ? events : events.slice(0, Math.max(maxResults, 0));
  }

  takePending(): LatestPending {
    const pending = this.#pending;
    this.#pending = { data: new Map(), types: [] };
    return pending;
  }

  /** After a failed flush: the taken changes go back under anything registered since. */
  restore(taken: LatestPending): void {
    for (const [typeRef, entry] of taken.data) if (!this.#pending.data.has(typeRef)) this.#pending.data.set(typeRef, entry);
    this.#pending.types = taken.types.concat(this.#pending.types);
  }

  /**
   * Rows to write for `pending`. `addRef` receives each written event's acceptance number and
   * type_ref (its new Latest ref); `removeRef` the Latest ref of the event a row replaces.
   */
  writeOps(
    pending: LatestPending,
    addRef: (seq: number, typeRef: number) => void,
    removeRef: (id: EventId, typeRef: number) => void,
  ): WriteOp[] {
    const ops: WriteOp[] = [];
    for (const [typeRef, { seq, value }] of pending.data) {
      const previous = this.#committedIds.get(typeRef);
      if (previous !== undefined) removeRef(previous, typeRef);
      addRef(seq, typeRef);
      ops.push({ db: 'LATEST_DATA', key: u64Bytes(typeRef), value });
    }
    for (const [typeRef, type] of pending.types) {
      ops.push({ db: 'LATEST_TYPE', key: u64Bytes(typeRef), value: Buffer.from(pythonJsonText([...type]), 'utf8') });
    }
    return ops;
  }

  committed(pending: LatestPending): void {
    for (const [typeRef, { event }] of pending.data) this.#committedIds.set(typeRef, event.id);
  }
}
