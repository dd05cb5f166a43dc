// ORDERED_PARTITION / ORDERED_COUNT: each configured partition is identified by its order and
// sanitised, sorted subscription (not by its limit). An equal stored row keeps its id, a new
// one gets max id + 1; rows of partitions no longer configured are kept (Hat never deletes).
import { jsonEqual } from '../../common/payload.ts';
import { pythonJsonText } from '../../common/json-payload.ts';
import { Subscription } from '../../common/subscription.ts';
import type { EventType, JsonValue } from '../../common/types.ts';
import type { OrderedConf } from './conf.ts';
import type { Environment, WriteOp } from './environment.ts';
import { readU64, u64Bytes } from './keys.ts';
import { OrderedPartition } from './ordered.ts';
import { isArchiveIdentity, SupersededArchive } from './archive.ts';
import { lastOrderedKey } from './type-index.ts';

interface PartitionIdentity {
  order: 1 | 2;
  subscriptions: string[][];
  [key: string]: JsonValue;
}

function partitionIdentity(conf: OrderedConf): { identity: PartitionIdentity; subscription: Subscription } {
  const subscription = new Subscription(conf.subscriptions);
  const subscriptions = subscription.getQueryTypes().map((t) => [...t]).sort(compareEventTypes);
  return { identity: { order: conf.order_by === 'TIMESTAMP' ? 1 : 2, subscriptions }, subscription };
}

/** Python's list order: element-wise by code point, a prefix first. */
function compareEventTypes(a: EventType, b: EventType): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = [...a[i]!];
    const y = [...b[i]!];
    for (let j = 0; j < Math.min(x.length, y.length); j++) {
      const d = x[j]!.codePointAt(0)! - y[j]!.codePointAt(0)!;
      if (d !== 0) return d;
    }
    if (x.length !== y.length) return x.length - y.length;
  }
  return a.length - b.length;
}

interface OpenedPartitions {
  partitions: OrderedPartition[];
  archive: SupersededArchive;
  /** ORDERED_PARTITION rows to write for new partitions */
  ops: WriteOp[];
}

/** The partitions in config order, the reserved archive partition, and rows for new ones. */
export function openPartitions(env: Environment, confs: OrderedConf[]): OpenedPartitions {
  const rows: { id: number; identity: JsonValue }[] = [];
  for (const { key, value } of env.dbs.ORDERED_PARTITION.getRange()) {
    rows.push({ id: readU64(key, 0), identity: JSON.parse(value.toString('utf8')) as JsonValue });
  }
  let maxId = rows.reduce((max, row) => Math.max(max, row.id), 0);
  const ops: WriteOp[] = [];
  const partitions = confs.map((conf) => {
    const { identity, subscription } = partitionIdentity(conf);
    let id = rows.find((row) => jsonEqual(row.identity, identity))?.id;
    if (id === undefined) {
      id = ++maxId;
      rows.push({ id, identity });
      ops.push({ db: 'ORDERED_PARTITION', key: u64Bytes(id), value: Buffer.from(pythonJsonText(identity), 'utf8') });
    }
    const partition = new OrderedPartition(id, conf.order_by, subscription, conf.limit ?? null, readCount(env, id));
    partition.lastKey = lastOrderedKey(env.dbs.ORDERED_DATA, id);
    partition.indexed = true;
    return partition;
  });
  const archiveRow = rows.find((row) => isArchiveIdentity(row.identity));
  const archive = new SupersededArchive(
    archiveRow === undefined ? null : { id: archiveRow.id, count: readCount(env, archiveRow.id) },
    maxId,
  );
  if (archive.partition !== null) archive.partition.lastKey = lastOrderedKey(env.dbs.ORDERED_DATA, archive.partition.id);
  return { partitions, archive, ops };
}

function readCount(env: Environment, id: number): number {
  const countBytes = env.dbs.ORDERED_COUNT.get(u64Bytes(id));
  return countBytes === undefined ? 0 : readU64(countBytes, 0);
}
