// QueryData defaults (docs/api.md, "Data model"): every filter off, newest first by timestamp.
import type { Order, OrderBy, QueryData } from './types.ts';

export type CompleteQueryData = Required<QueryData>;

export function defaultQueryData(): CompleteQueryData {
  return {
    serverId: null,
    ids: null,
    types: null,
    tFrom: null,
    tTo: null,
    sourceTFrom: null,
    sourceTTo: null,
    payload: null,
    order: 'descending',
    orderBy: 'timestamp',
    uniqueType: false,
    maxResults: null,
  };
}

const ORDERS: readonly Order[] = ['descending', 'ascending'];
const ORDER_BYS: readonly OrderBy[] = ['timestamp', 'sourceTimestamp'];

/**
 * `data` with every missing (or `undefined`) field set to its default. Throws a clear error on
 * an unknown `order`/`orderBy` or a `maxResults` that is not an integer.
 */
export function completeQueryData(data: QueryData = {}): CompleteQueryData {
  const out = defaultQueryData();
  for (const key of Object.keys(out) as (keyof QueryData)[]) {
    const value = data[key];
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  if (!ORDERS.includes(out.order)) throw new RangeError(`invalid query order: ${String(out.order)}`);
  if (!ORDER_BYS.includes(out.orderBy)) throw new RangeError(`invalid query orderBy: ${String(out.orderBy)}`);
  if (out.maxResults !== null && !Number.isInteger(out.maxResults)) {
    throw new RangeError(`invalid query maxResults: ${String(out.maxResults)}`);
  }
  return out;
}
