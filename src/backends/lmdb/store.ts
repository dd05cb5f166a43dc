// The LMDB store's state and its synchronous register step (spec/backend.md 4.5), with the
// [Q] difference that a rejected event comes back as null instead of silently vanishing.
import { compareEventIds } from '../../common/event-id.ts';
import { compareTimestamps } from '../../common/timestamp.ts';
import type { Event } from '../../common/types.ts';
import { Conditions } from './conditions.ts';
import type { LmdbBackendConf } from './conf.ts';
import { Environment } from './environment.ts';
import type { AcceptedEvent, FlushState } from './flush.ts';
import { encodeStoredEvents } from './event-value.ts';
import { LatestDb } from './latest.ts';
import type { OrderedPartition } from './ordered.ts';
import { openPartitions } from './partitions.ts';
import { ensureIndex } from './type-index.ts';
import type { SupersededArchive } from './archive.ts';
import { SystemDb } from './system.ts';

export class LmdbStore implements FlushState {
  readonly env: Environment;
  readonly conditions: Conditions;
  readonly system: SystemDb;
  readonly latest: LatestDb;
  readonly partitions: OrderedPartition[];
  readonly archive: SupersededArchive;
  #accepted: AcceptedEvent[] = [];

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
    events.forEach(assertStorable);
    const encoded = encodeStoredEvents(events, (index, err) => {
      throw new TypeError(`event ${index} cannot be stored: ${(err as Error).message}`, { cause: err });
    });
    return events.map((event, index) => {
      const last = this.system.get(event.id.server);
      if (compareEventIds(last.id, event.id) >= 0) return null;
      if (last.timestamp !== null && compareTimestamps(last.timestamp, event.timestamp) > 0) return null;
      if (!this.conditions.matches(event)) return null;
      const value = encoded[index]!;
      let stored = this.latest.add(event, value);
      for (const partition of this.partitions) stored = partition.add(event, value) || stored;
      if (!stored) return null;
      this.system.set(event.id, event.timestamp);
      this.#accepted.push({ event, value });
      return event;
    });
  }

  get hasPending(): boolean {
    return this.#accepted.length > 0;
  }

  takeAccepted(): AcceptedEvent[] {
    const accepted = this.#accepted;
    this.#accepted = [];
    return accepted;
  }

  restoreAccepted(taken: AcceptedEvent[]): void {
    this.#accepted = taken.concat(this.#accepted);
  }
}

/** Rejects, before anything is stored, what the file layout cannot hold. */
function assertStorable(event: Event, index: number): void {
  const fail = (what: string): never => {
    throw new TypeError(`event ${index} cannot be stored: ${what}`);
  };
  if (event === null || typeof event !== 'object') fail('not an event');
  const { id, type, timestamp, sourceTimestamp } = event;
  for (const part of ['server', 'session', 'instance'] as const) {
    const v = id?.[part];
    if (!Number.isSafeInteger(v) || v < 0) fail(`id.${part} = ${String(v)}`);
  }
  if (!Array.isArray(type) || type.some((s) => typeof s !== 'string')) fail('type is not an array of strings');
  const payload = event.payload;
  if (payload !== null) {
    const ok =
      payload.type === 'binary' ? payload.data instanceof Uint8Array
      : payload.type === 'sbs' ? payload.data?.data instanceof Uint8Array && typeof payload.data.type === 'string' &&
        (payload.data.module === null || typeof payload.data.module === 'string')
      : payload.type === 'json';
    if (!ok) fail(`malformed ${String((payload as { type?: unknown }).type)} payload`);
  }
  for (const [name, t] of [['timestamp', timestamp], ['sourceTimestamp', sourceTimestamp]] as const) {
    if (t === null && name === 'sourceTimestamp') continue;
    if (!t || !Number.isSafeInteger(t.s) || !Number.isInteger(t.us) || t.us < 0 || t.us >= 1_000_000) {
      fail(`${name} = ${JSON.stringify(t)}`);
    }
  }
}
