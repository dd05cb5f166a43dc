// The LMDB store's state and its synchronous register step (docs/storage.md, "Registering"),
// with the [Q] difference (docs/differences.md, "Storage") that a rejected event comes back as
// null instead of silently vanishing. An event the file layout cannot hold is refused on its own
// (null, and a log line saying why): only a broken database makes register throw.
import { compareEventIds } from '../../common/event-id.ts';
import { compareTimestamps } from '../../common/timestamp.ts';
import type { Event } from '../../common/types.ts';
import { Conditions } from './conditions.ts';
import type { LmdbBackendConf } from './conf.ts';
import { Environment } from './environment.ts';
import type { AcceptedEvents, FlushState } from './flush.ts';
import { encodeStoredEvents } from './event-value.ts';
import { LatestDb } from './latest.ts';
import type { OrderedPartition } from './ordered.ts';
import { openPartitions } from './partitions.ts';
import { dropIndex, ensureIndex } from './type-index.ts';
import { checkConsistency } from './consistency.ts';
import { DamagedFileError } from './file-check.ts';
import { describeError } from '../../common/describe-error.ts';
import type { SupersededArchive } from './archive.ts';
import { SystemDb } from './system.ts';
import { registerEventProblem } from '../../common/event-check.ts';
import { eventIdKey } from '../../common/event-id.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { isKeyTimestamp } from './keys.ts';
import { typeInfo } from './type-info.ts';

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
  /** what the pending events hold in memory, estimated (pendingSize) */
  #pendingBytes = 0;
  readonly #log: Logger;

  private constructor(env: Environment, conf: LmdbBackendConf, partitions: OrderedPartition[], archive: SupersededArchive, log: Logger) {
    this.env = env;
    this.#log = log;
    this.conditions = new Conditions(conf.conditions);
    this.system = new SystemDb(env);
    this.latest = new LatestDb(env, conf.latest.subscriptions, this.conditions);
    this.partitions = partitions;
    this.archive = archive;
  }

  static async open(conf: LmdbBackendConf, log: Logger = silentLogger()): Promise<LmdbStore> {
    const env = Environment.open(conf.db_path, conf.max_db_size);
    try {
      const { partitions, archive, ops } = readStore(() => openPartitions(env, conf.ordered), env.path);
      const store = readStore(() => new LmdbStore(env, conf, partitions, archive, log), env.path);
      const written = archive.partition === null ? partitions : [...partitions, archive.partition];
      const { rebuildIndex } = readStore(() => checkConsistency(env, written, store.system, log), env.path);
      await env.commit(ops);
      if (rebuildIndex) await dropIndex(env);
      for (const p of partitions) await ensureIndex(env, p.id, p.count, p.lastKey);
      return store;
    } catch (err) {
      await env.close();
      throw err;
    }
  }

  /** Same length as `events`; null where an event was rejected or cannot be stored. */
  register(events: Event[]): (Event | null)[] {
    // Checking and encoding up front refuses what the layout cannot hold before any state
    // changes (and moves the encoding work out of the flush).
    const encoded = encodeStoredEvents(events, (index) => this.#storageProblem(events[index]!));
    // A plain loop with no per-event objects of its own: register runs for every event.
    const results = new Array<Event | null>(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const value = encoded[i]!;
      if (typeof value === 'string') {
        this.#log.warning('event not stored: the database cannot hold it', { id: idText(event), reason: value });
        results[i] = null;
      } else {
        results[i] = this.#accept(event, value) ? event : null;
      }
    }
    return results;
  }

  /** What Hat's file layout cannot hold in `event` (null: nothing), partitions included. */
  #storageProblem(event: Event): string | null {
    const problem = storageProblem(event);
    if (problem !== null) return problem;
    for (const partition of this.partitions) {
      const time = partition.keyTime(event);
      if (time !== null && !isKeyTimestamp(time) && partition.subscription.matches(event.type)) {
        return `the ${partition.orderBy} partition ${partition.id} keys it by a time whose us = ${time.us} is outside [0, 2^32)`;
      }
    }
    return null;
  }

  #accept(event: Event, value: Uint8Array): boolean {
    const last = this.system.get(event.id.server);
    if (compareEventIds(last.id, event.id) >= 0) return false;
    if (last.timestamp !== null && compareTimestamps(last.timestamp, event.timestamp) > 0) return false;
    if (!this.conditions.matches(event)) return false;
    const seq = this.#base + this.#events.length;
    const type = typeInfo(event.type);
    let stored = this.latest.add(event, value, seq, type);
    for (const partition of this.partitions) stored = partition.add(event, value, seq, type) || stored;
    if (!stored) return false;
    this.system.set(event.id, event.timestamp);
    this.#events.push(event);
    this.#values.push(value);
    this.#pendingBytes += pendingSize(value);
    return true;
  }

  get hasPending(): boolean {
    return this.#events.length > 0;
  }

  /** Accepted since the last flush (or a flush in progress), not yet written. */
  get pendingEvents(): number {
    return this.#events.length;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Events accepted since the store opened: the acceptance number the next one gets. */
  get acceptedCount(): number {
    return this.#base + this.#events.length;
  }

  takeAccepted(): AcceptedEvents {
    const taken = { events: this.#events, values: this.#values, base: this.#base, bytes: this.#pendingBytes };
    this.#base += this.#events.length;
    this.#events = [];
    this.#values = [];
    this.#pendingBytes = 0;
    return taken;
  }

  /** After a failed flush: the taken events go back before those registered since. */
  restoreAccepted(taken: AcceptedEvents): void {
    this.#events = taken.events.concat(this.#events);
    this.#values = taken.values.concat(this.#values);
    this.#base = taken.base;
    this.#pendingBytes += taken.bytes;
  }
}

/** Reading the file's state at open: what fails there is damage (or a bug), said as such. */
function readStore<T>(read: () => T, file: string): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof DamagedFileError) throw err;
    throw new DamagedFileError(file, `cannot be read (${describeError(err)})`);
  }
}

/**
 * What a pending event holds in memory: its stored value, the event as decoded from the wire (its
 * payload's bytes and text) and the objects around it. Measured on events decoded from register
 * requests: about 3 bytes per value byte plus 700.
 */
function pendingSize(value: Uint8Array): number {
  return 3 * value.length + 700;
}

/** What the file layout cannot hold in `event` (null: nothing), checked before anything is stored. */
function storageProblem(event: Event): string | null {
  const shape = registerEventProblem(event);
  if (shape !== null) return shape;
  const { id, timestamp } = event;
  if (!isU64(id?.server)) return `id.server = ${String(id?.server)}`;
  if (!isU64(id.session)) return `id.session = ${String(id.session)}`;
  if (!isU64(id.instance)) return `id.instance = ${String(id.instance)}`;
  // The SYSTEM row and TIMESTAMP keys hold it; `s` must also stay exact when read back.
  if (!timestamp || !Number.isSafeInteger(timestamp.s) || !isKeyTimestamp(timestamp)) return `timestamp = ${JSON.stringify(timestamp)}`;
  return null;
}

function isU64(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function idText(event: Event): string {
  try {
    return eventIdKey(event.id);
  } catch {
    return String(event?.id);
  }
}
