// Query routing (docs/storage.md, "Queries"): a unique-type, newest-first query with no filter the
// latest map cannot answer goes to the latest map; everything else goes to the first
// partition (config order) with the wanted order that can hold the query's types.
import { completeQueryData } from '../../common/query-data.ts';
import { Subscription } from '../../common/subscription.ts';
import type { Event, QueryData } from '../../common/types.ts';
import type { Conditions } from './conditions.ts';
import type { Environment } from './environment.ts';
import type { LatestDb } from './latest.ts';
import type { OrderedPartition } from './ordered.ts';

export function runLmdbQuery(
  env: Environment,
  latest: LatestDb,
  partitions: OrderedPartition[],
  conditions: Conditions,
  data: QueryData,
): Event[] {
  const q = completeQueryData(data);
  const latestPath =
    q.serverId === null && q.ids === null && q.tTo === null && q.sourceTFrom === null &&
    q.sourceTTo === null && q.payload === null && q.order === 'descending' &&
    q.orderBy === 'timestamp' && q.uniqueType;
  if (latestPath) return latest.query(q.types, q.tFrom, q.maxResults);

  const sub = q.types === null ? null : new Subscription(q.types);
  const orderBy = q.orderBy === 'timestamp' ? 'TIMESTAMP' : 'SOURCE_TIMESTAMP';
  const partition = partitions.find(
    (p) => p.orderBy === orderBy && (sub === null || !sub.isDisjoint(p.subscription)),
  );
  return partition === undefined ? [] : partition.query(env, q, sub, conditions);
}
