// Query routing (docs/storage.md, "Queries") and where a query runs. A unique-type, newest-first query
// with no filter the latest map cannot answer goes to the latest map (memory, main thread);
// everything else goes to the first partition (config order) with the wanted order that can
// hold the query's types, where the committed entries are scanned (scan.ts) and merged on the
// main thread with the unflushed ones (query-answer.ts).
//
// Where the scan runs (measured in bench/query.ts, see docs/queries.md):
// - a query that asks for at most MAIN_THREAD_BUDGET results (maxResults) or names at most
//   that many ids is first tried on the main thread, which stops after visiting that many
//   entries: a small answer costs less there than a hand-over to a thread, and a selective
//   filter that would make it read much more moves it to a reader thread after bounded work;
// - every other scan runs on a reader thread, so the main thread (sessions, registrations)
//   never waits for it.
// Both see the same data: the unflushed entries are taken when the query starts, and the
// reader's snapshot starts later, so an event that moves from unflushed to committed between
// the two is in both (merged once) and none is in neither; the answer is the store as it was
// at one instant (the later of the query's start and the last commit the snapshot sees).
import { completeQueryData, type CompleteQueryData } from '../../common/query-data.ts';
import { Subscription } from '../../common/subscription.ts';
import type { QueryData } from '../../common/types.ts';
import { encodeQueryData } from '../../sbs/query-codec.ts';
import { eventFilter } from '../query-pipeline.ts';
import { QueryLimitError } from '../backend.ts';
import type { LmdbStore } from './store.ts';
import { orderedBound } from './keys.ts';
import { mergeAnswer, QueryAnswer } from './query-answer.ts';
import type { ReaderPool } from './readers/reader-pool.ts';
import { scanFilter, scanPartition, type ScanPlan } from './scan.ts';
import { mergeSorted, walkSorted, type PendingEntry } from './sorted-entries.ts';

/** Entries a query may visit on the main thread before it moves to a reader thread. */
export const MAIN_THREAD_BUDGET = 256;

export interface QueryOptions {
  /** answers above this many events fail (QueryLimitError) */
  maxResults: number;
  /** MAIN_THREAD_BUDGET unless a test wants every scan on the readers (0) */
  mainThreadBudget?: number;
}

export class LmdbQueries {
  readonly #store: LmdbStore;
  readonly #readers: ReaderPool;
  readonly #limit: number;
  readonly #budget: number;

  constructor(store: LmdbStore, readers: ReaderPool, options: QueryOptions) {
    this.#store = store;
    this.#readers = readers;
    this.#limit = options.maxResults;
    this.#budget = options.mainThreadBudget ?? MAIN_THREAD_BUDGET;
  }

  async run(data: QueryData): Promise<QueryAnswer> {
    const answer = await this.#run(completeQueryData(data));
    if (answer.count > this.#limit) throw new QueryLimitError(this.#limit);
    return answer;
  }

  async #run(q: CompleteQueryData): Promise<QueryAnswer> {
    const latestPath =
      q.serverId === null && q.ids === null && q.tTo === null && q.sourceTFrom === null &&
      q.sourceTTo === null && q.payload === null && q.order === 'descending' &&
      q.orderBy === 'timestamp' && q.uniqueType;
    if (latestPath) return QueryAnswer.ofEvents(this.#store.latest.query(q.types, q.tFrom, q.maxResults));

    const types = q.types === null ? null : new Subscription(q.types);
    const orderBy = q.orderBy === 'timestamp' ? 'TIMESTAMP' : 'SOURCE_TIMESTAMP';
    const partition = this.#store.partitions.find(
      (p) => p.orderBy === orderBy && (types === null || !types.isDisjoint(p.subscription)),
    );
    if (partition === undefined || (q.maxResults !== null && q.maxResults <= 0)) return QueryAnswer.ofEvents([]);

    const [from, to] = orderBy === 'TIMESTAMP' ? [q.tFrom, q.tTo] : [q.sourceTFrom, q.sourceTTo];
    const lo = orderedBound(partition.id, from, false);
    const hi = orderedBound(partition.id, to, true);
    const descending = q.order === 'descending';
    const unflushed = partition.unflushed(lo, hi);
    const held = unflushed[0].length + unflushed[1].length;
    // Enough to decide the limit: every held entry may also be among the committed ones.
    const overLimit = this.#limit + held + 1;
    const cap = q.maxResults === null ? overLimit : Math.min(q.maxResults, overLimit);
    const plan: ScanPlan = {
      partitionId: partition.id,
      lo,
      hi,
      descending,
      indexTypes: partition.indexed && q.types !== null && q.types.every((t) => !t.includes('*') && !t.includes('?')) ? q.types : null,
      ids: q.ids,
      cap,
      withKeys: held > 0,
    };
    const filter = scanFilter(q, this.#store.conditions);
    const small = (q.maxResults !== null && q.maxResults <= this.#budget) || (q.ids !== null && q.ids.length <= this.#budget);
    const scan =
      (small ? scanPartition({ dbs: this.#store.env.dbs, txn: undefined }, plan, filter, this.#budget) : null) ??
      await this.#readers.scan(plan, encodeQueryData(q));
    if (scan.capped && cap === overLimit) throw new QueryLimitError(this.#limit);
    return mergeAnswer(scan, heldMatches(unflushed, q, descending), descending, q.uniqueType, q.maxResults ?? Infinity);
  }
}

/** The held entries that pass the query's filters, in its order. */
function heldMatches([flushing, pending]: PendingEntry[][], q: CompleteQueryData, descending: boolean): PendingEntry[] {
  if (flushing!.length + pending!.length === 0) return [];
  const accept = eventFilter(q);
  const out: PendingEntry[] = [];
  for (const entry of mergeSorted([walkSorted(flushing!, descending), walkSorted(pending!, descending)], descending)) {
    if (accept(entry.event!)) out.push(entry as PendingEntry);
  }
  return out;
}
