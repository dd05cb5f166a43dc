// One flush (docs/storage.md, "Flushing"): take every pending change, write it all in one LMDB write
// transaction, and report the accepted events once they are durable.
//
// [Q] Hat persists and notifies only what its latest/ordered writes contributed, so a
// latest-only event superseded by a newer one of its type was lost to query_flushed and
// never notified. We notify every event accepted in the window, and an event that would be
// left with no ref at all (superseded inside the window, or its Latest ref moved to a
// successor in a later window) is kept in the reserved archive partition (archive.ts).
import type { Event } from '../../common/types.ts';
import type { SupersededArchive } from './archive.ts';
import { DbType, type Environment, type WriteOp } from './environment.ts';
import { decodeStoredEvent } from './event-value.ts';
import { EVENT_ID_SIZE, ORDERED_KEY_SIZE, U64_SIZE, u64Bytes, writeEventId, writeOrderedKey, writeU64 } from './keys.ts';
import type { LatestDb } from './latest.ts';
import type { OrderedPartition } from './ordered.ts';
import { latestRef, orderedRef, RefChanges } from './refs.ts';
import { ByteArena, scratchKeys, writeOps } from './row-batch.ts';
import { PendingEntry } from './sorted-entries.ts';
import { typeInfo } from './type-info.ts';
import type { SystemDb } from './system.ts';
import { describeError } from '../../common/describe-error.ts';
import { LmdbWriteError } from './write-error.ts';

/** The events accepted in a flush window, their stored values (SBS), and the first's number. */
export interface AcceptedEvents {
  events: Event[];
  values: Uint8Array[];
  /** acceptance number of events[0]; events[i] has base + i */
  base: number;
  /** what they hold in memory (store.ts pendingSize) */
  bytes: number;
}

export interface FlushState {
  env: Environment;
  system: SystemDb;
  latest: LatestDb;
  partitions: OrderedPartition[];
  archive: SupersededArchive;
  /** every event accepted since the last flush, in registration order */
  takeAccepted(): AcceptedEvents;
  restoreAccepted(taken: AcceptedEvents): void;
}

/**
 * Writes the pending changes; resolves with the events written, in acceptance order.
 * The rows are issued straight into the transaction (row-batch.ts): keys in scratch buffers,
 * REF values in one arena per attempt, stored values as they were encoded at register, so a
 * flush of n events allocates no object per row.
 */
export async function flushPending(state: FlushState): Promise<Event[]> {
  const accepted = state.takeAccepted();
  const { events, base } = accepted;
  const n = events.length;
  if (n === 0) return [];
  const { env, system, latest, partitions, archive } = state;
  const systemPending = system.takePending();
  const latestPending = latest.takePending();
  const taken = partitions.map((p) => p.takePending());

  const refs = new RefChanges(env);
  /** per accepted event: the type_ref of its new Latest ref (0: none) */
  const latestRefs = new Float64Array(n);
  /** per accepted event: its ordered entries, in partition order (archive last) */
  const entriesOf: (PendingEntry[] | PendingEntry | undefined)[] = new Array(n);
  const addEntry = (entry: PendingEntry): void => {
    const i = entry.seq - base;
    const list = entriesOf[i];
    if (list === undefined) entriesOf[i] = entry;
    else if (Array.isArray(list)) list.push(entry);
    else entriesOf[i] = [list, entry];
  };
  /** LATEST_DATA rows whose committed event loses its last ref when the row is replaced */
  const orphaned: number[] = [];

  let ok = false;
  let archived: PendingEntry[] = [];
  let archivePartition: OrderedPartition | null = null;
  try {
    const ops: WriteOp[] = system.writeOps(systemPending);
    ops.push(...latest.writeOps(
      latestPending,
      (seq, typeRef) => (latestRefs[seq - base] = typeRef),
      (id, typeRef) => {
        if (refs.remove(id, latestRef(typeRef))) orphaned.push(typeRef);
      },
    ));
    for (const entries of taken) for (const entry of entries) addEntry(entry);

    const superseded = supersededEvents(env, accepted, latestRefs, entriesOf, orphaned);
    if (superseded.length > 0) {
      archivePartition = archive.use(ops);
      const id = archivePartition.id;
      archived = superseded.map(({ event, value, seq }) => new PendingEntry(id, event.timestamp, event, value, seq, typeInfo(event.type).hash));
      for (const entry of archived) {
        if (entry.seq < 0) refs.add(entry.event.id, orderedRef(entry.key));
        else addEntry(entry);
      }
    }
    const refOps = refs.ops();
    const written = archivePartition === null ? partitions : [...partitions, archivePartition];
    const writtenEntries = archivePartition === null ? taken : [...taken, archived];
    await env.commit({
      writeTo(sink) {
        writeOps(sink, ops);
        written.forEach((partition, i) => partition.writeRows(sink, writtenEntries[i]!));
        const key = scratchKeys.of(EVENT_ID_SIZE);
        const arena = new ByteArena();
        for (let i = 0; i < n; i++) {
          writeEventId(key, 0, events[i]!.id);
          sink.put('REF', key, refValueIn(arena, latestRefs[i]!, entriesOf[i]));
        }
        writeOps(sink, refOps);
      },
    });
    ok = true;
  } catch (err) {
    system.restore(systemPending);
    latest.restore(latestPending);
    state.restoreAccepted(accepted);
    // A write error says itself what failed and whether waiting helps (write-error.ts).
    if (err instanceof LmdbWriteError) throw err;
    throw new Error(`lmdb flush failed, nothing of it was written: ${describeError(err)}`, { cause: err });
  } finally {
    partitions.forEach((partition, i) => partition.flushDone(taken[i]!, ok));
    if (ok && archivePartition !== null) archivePartition.count += archived.length;
    archive.settle(ok);
  }
  latest.committed(latestPending);
  return events;
}

/** A new event's REF value: its Latest ref (if any), then its Ordered refs. */
function refValueIn(arena: ByteArena, typeRef: number, entries: PendingEntry[] | PendingEntry | undefined): Buffer {
  const list = entries === undefined ? EMPTY_LIST : Array.isArray(entries) ? entries : [entries];
  const value = arena.take((typeRef === 0 ? 0 : 1 + U64_SIZE) + list.length * (1 + ORDERED_KEY_SIZE));
  let at = 0;
  if (typeRef !== 0) {
    value[0] = DbType.LATEST_DATA;
    writeU64(value, 1, typeRef);
    at = 1 + U64_SIZE;
  }
  for (const entry of list) {
    value[at] = DbType.ORDERED_DATA;
    writeOrderedKey(value, entry.partitionId, entry.time, entry.event.id, at + 1);
    at += 1 + ORDERED_KEY_SIZE;
  }
  return value;
}

const EMPTY_LIST: readonly PendingEntry[] = [];

interface Superseded {
  event: Event;
  value: Uint8Array;
  /** acceptance number, or -1 for an event already in the file (its REF row exists) */
  seq: number;
}

/**
 * Events for the archive: committed ones whose last ref the flush removes, and accepted ones
 * it gives no ref (superseded inside the window).
 */
function supersededEvents(
  env: Environment,
  accepted: AcceptedEvents,
  latestRefs: Float64Array,
  entriesOf: unknown[],
  orphaned: number[],
): Superseded[] {
  const found: Superseded[] = [];
  for (const typeRef of orphaned) {
    // Read before the batched write replaces the row (flush and cleanup never overlap).
    const stored = env.dbs.LATEST_DATA.getBinary(u64Bytes(typeRef));
    if (stored === undefined) continue;
    const value = Uint8Array.from(stored);
    found.push({ event: decodeStoredEvent(value), value, seq: -1 });
  }
  const { events, values, base } = accepted;
  for (let i = 0; i < events.length; i++) {
    if (latestRefs[i] === 0 && entriesOf[i] === undefined) found.push({ event: events[i]!, value: values[i]!, seq: base + i });
  }
  return found;
}
