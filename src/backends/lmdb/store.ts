// The LMDB store's state and its synchronous register step (spec/backend.md 4.5), with the
// [Q] difference that a rejected event comes back as null instead of silently vanishing.
import { compareEventIds } from '../../common/event-id.ts';
import { compareTimestamps } from '../../common/timestamp.ts';
import type { Event, Timestamp } from '../../common/types.ts';
import { Conditions } from './conditions.ts';
import type { LmdbBackendConf } from './conf.ts';
import { Environment } from './environment.ts';
import type { AcceptedEvents, FlushState } from './flush.ts';
import { encodeStoredEvents } from './event-value.ts';
import { LatestDb } from './latest.ts';
import type { OrderedPartition } from './ordered.ts';
import { openPartitions } from './partitions.ts';
import { ensureIndex } from './type-index.ts';
import type { SupersededArchive } from './archive.ts';
import { SystemDb } from './system.ts';
import { describeError } from '../../common/describe-error.ts';

export class LmdbStore implements FlushState {
  readonly env: Environment;
  readonly conditions: Conditions;
  readonly system: SystemDb;
  readonly latest: LatestDb;
  readonly partitions: OrderedPartition[];
  readonly archive: SupersededArchive;
  /** accepted since the last flush, with their values; the first has acceptance number #base */
  #events: Event[] = [];
  #values: Uint8Array[] = [];
  #base = 0;

  private constructor(env: Environment, conf: LmdbBackendConf, partitions: OrderedPartition[], archive: SupersededArchive) {
    this.env = env;
    this.conditions = new Conditions(conf.conditions);
    this.system = new SystemDb(env);
    this.latest = new LatestDb(env, conf.latest.subscriptions, this.conditions);
    this.partitions = partitions;
    this.archive = archive;
  }

  static async open(conf: LmdbBackendConf): Promise<LmdbStore> {
    const env = Environment.open(conf.db_path, conf.max_db_size);
    try {
      const { partitions, archive, ops } = openPartitions(env, conf.ordered);
      await env.commit(ops);
      for (const p of partitions) await ensureIndex(env, p.id, p.count, p.lastKey);
      return new LmdbStore(env, conf, partitions, archive);
    } catch (err) {
      await env.close();
      throw err;
    }
  }

  /** Same length as `events`; null where an event was rejected. Throws on malformed input. */
  register(events: Event[]): (Event | null)[] {
    // Encoding up front validates every event before any state changes (and moves the
    // encoding work out of the flush).
    for (let i = 0; i < events.length; i++) {
      const problem = storageProblem(events[i]!);
      if (problem !== null) throw new TypeError(`event ${i} cannot be stored: ${problem}`);
    }
    const encoded = encodeStoredEvents(events, (index, err) => {
      throw new TypeError(`event ${index} cannot be stored: ${describeError(err)}`, { cause: err });
    });
    // A plain loop with no per-event objects of its own: register runs for every event.
    const results = new Array<Event | null>(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      results[i] = this.#accept(event, encoded[i]!) ? event : null;
    }
    return results;
  }

  #accept(event: Event, value: Uint8Array): boolean {
    const last = this.system.get(event.id.server);
    if (compareEventIds(last.id, event.id) >= 0) return false;
    if (last.timestamp !== null && compareTimestamps(last.timestamp, event.timestamp) > 0) return false;
    if (!this.conditions.matches(event)) return false;
    const seq = this.#base + this.#events.length;
    let stored = this.latest.add(event, value, seq);
    for (const partition of this.partitions) stored = partition.add(event, value, seq) || stored;
    if (!stored) return false;
    this.system.set(event.id, event.timestamp);
    this.#events.push(event);
    this.#values.push(value);
    return true;
  }

  get hasPending(): boolean {
    return this.#events.length > 0;
  }

  /** events registered since the last flush took them */
  get pendingCount(): number {
    return this.#events.length;
  }

  takeAccepted(): AcceptedEvents {
    const taken = { events: this.#events, values: this.#values, base: this.#base };
    this.#base += this.#events.length;
    this.#events = [];
    this.#values = [];
    return taken;
  }

  /** After a failed flush: the taken events go back before those registered since. */
  restoreAccepted(taken: AcceptedEvents): void {
    this.#events = taken.events.concat(this.#events);
    this.#values = taken.values.concat(this.#values);
    this.#base = taken.base;
  }
}

/** What the file layout cannot hold in `event` (null: nothing), checked before anything is stored. */
function storageProblem(event: Event): string | null {
  if (event === null || typeof event !== 'object') return 'not an event';
  const { id, type, timestamp, sourceTimestamp, payload } = event;
  if (!isU64(id?.server)) return `id.server = ${String(id?.server)}`;
  if (!isU64(id.session)) return `id.session = ${String(id.session)}`;
  if (!isU64(id.instance)) return `id.instance = ${String(id.instance)}`;
  if (!Array.isArray(type)) return 'type is not an array of strings';
  for (let i = 0; i < type.length; i++) if (typeof type[i] !== 'string') return 'type is not an array of strings';
  if (payload !== null) {
    const ok =
      payload.type === 'binary' ? payload.data instanceof Uint8Array
      : payload.type === 'sbs' ? payload.data?.data instanceof Uint8Array && typeof payload.data.type === 'string' &&
        (payload.data.module === null || typeof payload.data.module === 'string')
      : payload.type === 'json';
    if (!ok) return `malformed ${String((payload as { type?: unknown }).type)} payload`;
  }
  if (!isStorableTimestamp(timestamp)) return `timestamp = ${JSON.stringify(timestamp)}`;
  if (sourceTimestamp !== null && !isStorableTimestamp(sourceTimestamp)) return `sourceTimestamp = ${JSON.stringify(sourceTimestamp)}`;
  return null;
}

function isU64(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isStorableTimestamp(t: Timestamp | null | undefined): boolean {
  return !!t && Number.isSafeInteger(t.s) && Number.isInteger(t.us) && t.us >= 0 && t.us < 1_000_000;
}
