// One flush (spec/backend.md 4.6): take every pending change, write it all in one LMDB write
// transaction, and report the accepted events once they are durable.
//
// [Q] Hat notifies only the events its latest/ordered writes contributed, so a latest-only
// event superseded by a newer one of its type inside the same window was never notified. We
// notify every event accepted in the window. On disk nothing differs from flushing after each
// event: such an event's Latest ref would have been added and removed again by its successor,
// so the final file is the same as Hat's — the event reaches the flushed callbacks (what
// replication forwards) exactly as if the flush had happened between the two registrations.
import { compareEventIds } from '../../common/event-id.ts';
import type { Event } from '../../common/types.ts';
import type { Environment, WriteOp } from './environment.ts';
import type { LatestDb } from './latest.ts';
import type { OrderedPartition } from './ordered.ts';
import { latestRef, orderedRef, RefChanges } from './refs.ts';
import type { SystemDb } from './system.ts';

export interface FlushState {
  env: Environment;
  system: SystemDb;
  latest: LatestDb;
  partitions: OrderedPartition[];
  /** every event accepted since the last flush, in registration order */
  takeAccepted(): Event[];
  restoreAccepted(taken: Event[]): void;
}

/** Writes the pending changes; resolves with the flushed events split per (server, session). */
export async function flushPending(state: FlushState): Promise<Event[][]> {
  const accepted = state.takeAccepted();
  if (accepted.length === 0) return [];
  const { env, system, latest, partitions } = state;
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

  let ok = false;
  try {
    const ops: WriteOp[] = system.writeOps(env, systemPending);
    append(ops, latest.writeOps(
      env,
      latestPending,
      (event, typeRef) => addNewRef(event, latestRef(typeRef)),
      (id, typeRef) => refs.remove(id, latestRef(typeRef)),
    ));
    partitions.forEach((partition, i) => {
      const entries = taken[i]!;
      if (entries.length === 0) return;
      append(ops, partition.writeOps(env, entries));
      for (const entry of entries) addNewRef(entry.event, orderedRef(entry.key));
    });
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
  }
  latest.committed(latestPending);
  return splitPerSession(accepted);
}

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
