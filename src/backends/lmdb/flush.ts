// One flush (spec/backend.md 4.6): take every pending change, write it all in one LMDB write
// transaction, and report the accepted events once they are durable.
//
// [Q] Hat persists and notifies only what its latest/ordered writes contributed, so a
// latest-only event superseded by a newer one of its type was lost to query_flushed and
// never notified. We notify every event accepted in the window, and an event that would be
// left with no ref at all (superseded inside the window, or its Latest ref moved to a
// successor in a later window) is kept in the reserved archive partition (archive.ts).
import { compareEventIds } from '../../common/event-id.ts';
import type { Event } from '../../common/types.ts';
import type { SupersededArchive } from './archive.ts';
import type { Environment, WriteOp } from './environment.ts';
import { decodeStoredEvent } from './event-value.ts';
import { orderedKey, u64Bytes } from './keys.ts';
import type { LatestDb } from './latest.ts';
import type { OrderedPartition } from './ordered.ts';
import { latestRef, orderedRef, RefChanges } from './refs.ts';
import type { PendingEntry } from './sorted-entries.ts';
import type { SystemDb } from './system.ts';

/** An accepted event with its stored value (SBS), kept until it is flushed. */
export interface AcceptedEvent {
  event: Event;
  value: Uint8Array;
}

export interface FlushState {
  env: Environment;
  system: SystemDb;
  latest: LatestDb;
  partitions: OrderedPartition[];
  archive: SupersededArchive;
  /** every event accepted since the last flush, in registration order */
  takeAccepted(): AcceptedEvent[];
  restoreAccepted(taken: AcceptedEvent[]): void;
}

/** Writes the pending changes; resolves with the flushed events split per (server, session). */
export async function flushPending(state: FlushState): Promise<Event[][]> {
  const accepted = state.takeAccepted();
  if (accepted.length === 0) return [];
  const { env, system, latest, partitions, archive } = state;
  const systemPending = system.takePending();
  const latestPending = latest.takePending();
  const taken = partitions.map((p) => p.takePending());

  const refs = new RefChanges(env);
  const newRefs = new Map<Event, Buffer[]>();
  const addNewRef = (event: Event, ref: Buffer): void => {
    const list = newRefs.get(event);
    if (list === undefined) newRefs.set(event, [ref]);
    else list.push(ref);
  };
  /** LATEST_DATA rows whose committed event loses its last ref when the row is replaced */
  const orphaned: { typeRef: number }[] = [];

  let ok = false;
  let archived: ArchiveEntry[] = [];
  let archivePartition: OrderedPartition | null = null;
  try {
    const ops: WriteOp[] = system.writeOps(env, systemPending);
    append(ops, latest.writeOps(
      env,
      latestPending,
      (event, typeRef) => addNewRef(event, latestRef(typeRef)),
      (id, typeRef) => {
        refs.remove(id, latestRef(typeRef));
        if (refs.isEmpty(id)) orphaned.push({ typeRef });
      },
    ));
    partitions.forEach((partition, i) => {
      const entries = taken[i]!;
      if (entries.length === 0) return;
      append(ops, partition.writeOps(env, entries));
      for (const entry of entries) addNewRef(entry.event, orderedRef(entry.key));
    });

    archived = supersededEntries(env, accepted, newRefs, orphaned);
    if (archived.length > 0) {
      archivePartition = archive.use(ops);
      for (const entry of archived) {
        entry.key = orderedKey(archivePartition.id, entry.event.timestamp, entry.event.id);
        if (entry.committed) refs.add(entry.event.id, orderedRef(entry.key));
        else addNewRef(entry.event, orderedRef(entry.key));
      }
      append(ops, archivePartition.writeOps(env, archived));
    }
    for (const [event, list] of newRefs) refs.setNew(event.id, list);
    append(ops, refs.ops());
    await env.commit(ops);
    ok = true;
  } catch (err) {
    system.restore(systemPending);
    latest.restore(latestPending);
    state.restoreAccepted(accepted);
    throw new Error(`lmdb flush failed, nothing of it was written: ${(err as Error).message}`, { cause: err });
  } finally {
    partitions.forEach((partition, i) => partition.flushDone(taken[i]!, ok));
    if (ok && archivePartition !== null) archivePartition.count += archived.length;
    archive.settle(ok);
  }
  latest.committed(latestPending);
  return splitPerSession(accepted.map((a) => a.event));
}

interface ArchiveEntry extends PendingEntry {
  /** already in the file (its REF row exists) rather than accepted in this window */
  committed: boolean;
}

/**
 * Entries for the archive (keys are set once its id is known): accepted events the flush gives
 * no ref (superseded inside the window), and committed ones whose last ref it removes.
 */
function supersededEntries(
  env: Environment,
  accepted: AcceptedEvent[],
  newRefs: Map<Event, Buffer[]>,
  orphaned: { typeRef: number }[],
): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  for (const { typeRef } of orphaned) {
    // Read before the batched write replaces the row (flush and cleanup never overlap).
    const stored = env.dbs.LATEST_DATA.getBinary(u64Bytes(typeRef));
    if (stored === undefined) continue;
    const value = Uint8Array.from(stored);
    entries.push({ key: EMPTY, event: decodeStoredEvent(value), value, committed: true });
  }
  for (const { event, value } of accepted) {
    if (!newRefs.has(event)) entries.push({ key: EMPTY, event, value, committed: false });
  }
  return entries;
}

const EMPTY = Buffer.alloc(0);

/** `target.push(...items)` without the argument-count limit of a spread. */
function append<T>(target: T[], items: T[]): void {
  for (const item of items) target.push(item);
}

/** Sorted by id, one list per run of equal (server, session) ([Q]: Hat split on session only). */
export function splitPerSession(events: Event[]): Event[][] {
  const sorted = [...events].sort((a, b) => compareEventIds(a.id, b.id));
  const runs: Event[][] = [];
  let run: Event[] = [];
  for (const event of sorted) {
    const first = run[0];
    if (first !== undefined && (first.id.server !== event.id.server || first.id.session !== event.id.session)) {
      runs.push(run);
      run = [];
    }
    run.push(event);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
