// Cheap checks of the database's own consistency at open, beyond LMDB's: a few reads and the
// sub-databases' entry counts, never a scan. What would make the server write wrong data (a
// partition's newest entry that cannot be read or is not the event its key names, a SYSTEM row
// behind the stored ids, which would hand out ids again) refuses the file; what only makes
// answers incomplete is a warning that names what disagrees. Our type index, when it disagrees
// with its own meta rows, is rebuilt. The full check is `hat-event-ts lmdb verify`.
import { compareEventIds, eventIdKey, eventIdsEqual } from '../../common/event-id.ts';
import type { Logger } from '../../common/logger.ts';
import { timestampsEqual } from '../../common/timestamp.ts';
import type { Environment } from './environment.ts';
import { decodeStoredEvent } from './event-value.ts';
import { DamagedFileError } from './file-check.ts';
import { orderedKeyEventId, orderedKeyTime, readU64, u64Bytes } from './keys.ts';
import type { OrderedPartition } from './ordered.ts';
import type { SystemDb } from './system.ts';
import { describeError } from '../../common/describe-error.ts';

export interface Consistency {
  /** our type index disagrees with its meta rows: drop it whole and rebuild */
  rebuildIndex: boolean;
}

/** `partitions`: every partition the server writes to (configured, and the archive if present). */
export function checkConsistency(env: Environment, partitions: OrderedPartition[], system: SystemDb, log: Logger): Consistency {
  const { dbs } = env;
  const entries = (name: keyof typeof dbs): number => (dbs[name].getStats() as { entryCount?: number }).entryCount ?? 0;
  const warn = (problem: string): void => log.warning('database inconsistent: answers may be incomplete; check it with `hat-event-ts lmdb verify`', { db_path: env.path, problem });

  let counted = 0;
  const partitionIds: number[] = [];
  for (const { key, value } of dbs.ORDERED_COUNT.getRange()) {
    counted += readU64(value, 0);
    partitionIds.push(readU64(key, 0));
  }
  const orderedRows = entries('ORDERED_DATA');
  if (counted !== orderedRows) warn(`ORDERED_COUNT adds up to ${counted} entries, ORDERED_DATA holds ${orderedRows}`);
  const refRows = entries('REF');
  const dataRows = orderedRows + entries('LATEST_DATA');
  if (refRows > dataRows) warn(`REF holds ${refRows} events, more than the ${dataRows} rows of LATEST_DATA and ORDERED_DATA it can point at`);

  for (const partition of partitions) checkNewestEntry(env, partition, system, warn);

  let indexed = 0;
  for (const id of partitionIds) {
    const meta = dbs.HAT_EVENT_TS_TYPE_INDEX.getBinary(u64Bytes(id));
    if (meta !== undefined) indexed += 1 + readU64(Buffer.from(meta), 0);
  }
  const indexRows = entries('HAT_EVENT_TS_TYPE_INDEX');
  const rebuildIndex = indexRows !== indexed;
  if (rebuildIndex) {
    log.warning('type index inconsistent: rebuilding it', { db_path: env.path, problem: `it holds ${indexRows} rows, its meta rows account for ${indexed}` });
  }
  return { rebuildIndex };
}

function checkNewestEntry(env: Environment, partition: OrderedPartition, system: SystemDb, warn: (problem: string) => void): void {
  const key = partition.lastKey;
  if (key === null) {
    if (partition.count > 0) warn(`partition ${partition.id} counts ${partition.count} entries but holds none`);
    return;
  }
  const refuse = (problem: string): never => {
    throw new DamagedFileError(env.path, `is inconsistent: partition ${partition.id}'s newest entry ${problem}`);
  };
  const value = env.dbs.ORDERED_DATA.getBinary(key);
  if (value === undefined) refuse('vanished while it was read');
  let event;
  try {
    event = decodeStoredEvent(Uint8Array.from(value!));
  } catch (err) {
    return refuse(`cannot be read (${describeError(err)})`);
  }
  const keyId = orderedKeyEventId(key);
  const time = partition.orderBy === 'TIMESTAMP' ? event.timestamp : event.sourceTimestamp;
  if (!eventIdsEqual(event.id, keyId) || time === null || !timestampsEqual(time, orderedKeyTime(key))) {
    refuse(`holds event ${eventIdKey(event.id)} under the key of event ${eventIdKey(keyId)}`);
  }
  const last = system.get(event.id.server).id;
  if (compareEventIds(last, event.id) < 0) {
    refuse(`is event ${eventIdKey(event.id)}, but SYSTEM's last id of server ${event.id.server} is ${eventIdKey(last)}: ids would be given twice`);
  }
}
