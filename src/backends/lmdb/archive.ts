// [Q] Hat keeps a latest-only event (stored in the latest db and in no ordered partition)
// only while it is the newest of its type: once superseded, in the same flush window or a
// later one, it loses its only ref and vanishes from query_flushed, which replication replays.
// We keep such events reachable by id: they go to a reserved ordered partition, with an
// `Ordered` ref in REF, so query_flushed (ours and Hat's, which loads any ref) returns them.
//
// The reserved partition is an ordinary ORDERED_PARTITION row whose identity carries an extra
// key, so it can never equal the identity Hat or we compute for a configured partition: Hat
// sees it as a stale partition (it never queries, counts against, or deletes such rows) and we
// never route a query to it. It is created on first use, so a file that never needed it has
// exactly Hat's rows. Ordered by event timestamp.
//
// Retention: the newest ARCHIVE_MAX_ENTRIES entries, removed oldest first by the limits cleanup
// like any partition limit. A fixed count bounds the file (about 100k × (44-byte key + event +
// REF row) ≈ 20–40 MB for typical events) whatever the update rate, and still covers a replica
// that is some hours behind at tens of superseded events per second, which is what the
// replay from query_flushed is for.
import { Subscription } from '../../common/subscription.ts';
import { pythonJsonText } from '../../common/json-payload.ts';
import type { JsonValue } from '../../common/types.ts';
import type { WriteOp } from './environment.ts';
import { u64Bytes } from './keys.ts';
import { OrderedPartition } from './ordered.ts';

export const ARCHIVE_MAX_ENTRIES = 100_000;

const MARKER_KEY = 'hat_event_ts';
const MARKER = 'superseded latest-only events';

const ARCHIVE_IDENTITY: JsonValue = { order: 1, subscriptions: [], [MARKER_KEY]: MARKER };

export function isArchiveIdentity(identity: JsonValue): boolean {
  return identity !== null && typeof identity === 'object' && !Array.isArray(identity) && identity[MARKER_KEY] === MARKER;
}

/** The reserved partition, if the file has it, and the id it gets when first needed. */
export class SupersededArchive {
  #partition: OrderedPartition | null;
  #nextId: number;
  #created = false;

  constructor(existing: { id: number; count: number } | null, maxPartitionId: number) {
    this.#partition = existing === null ? null : archivePartition(existing.id, existing.count);
    this.#nextId = maxPartitionId + 1;
  }

  get partition(): OrderedPartition | null {
    return this.#partition;
  }

  /** The partition to write into; a new one adds its ORDERED_PARTITION row to `ops`. */
  use(ops: WriteOp[]): OrderedPartition {
    if (this.#partition !== null) return this.#partition;
    this.#partition = archivePartition(this.#nextId, 0);
    this.#created = true;
    ops.push({ db: 'ORDERED_PARTITION', key: u64Bytes(this.#nextId), value: Buffer.from(pythonJsonText(ARCHIVE_IDENTITY), 'utf8') });
    return this.#partition;
  }

  /** After the flush: a partition created by a failed one does not exist. */
  settle(ok: boolean): void {
    if (this.#created && !ok) this.#partition = null;
    this.#created = false;
  }
}

function archivePartition(id: number, count: number): OrderedPartition {
  return new OrderedPartition(id, 'TIMESTAMP', new Subscription([]), { max_entries: ARCHIVE_MAX_ENTRIES }, count);
}
