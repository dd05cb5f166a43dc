// What a reader thread (a piscina worker, workers/lmdb-reader.ts) does with one task: enter
// the snapshot gate, start a snapshot of its own lock-free handle, scan, and hand the
// result's buffers back without copying them.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { Transaction } from 'lmdb';
import { decodeQueryData } from '../../../sbs/query-codec.ts';
import { Conditions } from '../conditions.ts';
import type { LmdbBackendConf } from '../conf.ts';
import { scanFilter, scanPartition, type ScanPlan, type ScanResult } from '../scan.ts';
import { openLockFree, type LockFreeEnv } from './lock-free-env.ts';
import { SnapshotGateReader } from './snapshot-gate.ts';

export interface ReadTask {
  dbPath: string;
  /** the main environment's map size: a reader maps at least as much */
  mapSize: number;
  gate: SharedArrayBuffer;
  plan: ScanPlan;
  /** the query, SBS-encoded (its payload filter keeps its exact form) */
  query: Uint8Array;
  conditions: LmdbBackendConf['conditions'];
}

export type ReadReply = ScanResult;

/** A reader thread serves one backend, so it keeps one handle. */
let env: LockFreeEnv | null = null;

export function runReadTask(task: ReadTask): ReadReply | object {
  const gate = new SnapshotGateReader(task.gate);
  let txn: Transaction | null = null;
  gate.enter(() => {
    if (env === null || env.path !== task.dbPath || env.mapSize < task.mapSize) {
      void env?.root.close();
      env = null;
      env = openLockFree(task.dbPath, task.mapSize);
    }
    // lmdb-js keeps its read transaction until a timer resets it, which a thread that goes
    // from task to task need not run: start from the newest snapshot explicitly.
    env.root.resetReadTxn();
    txn = env.root.useReadTransaction();
  });
  let result: ScanResult;
  try {
    const q = decodeQueryData(task.query);
    result = scanPartition({ dbs: env!.dbs, txn: txn!, borrowedRange: env!.borrowedRange }, task.plan, scanFilter(q, new Conditions(task.conditions)))!;
  } finally {
    (txn as Transaction | null)?.done();
  }
  const buffers = [result.offsets.buffer, result.values.buffer, ...(result.keys === null ? [] : [result.keys.buffer])];
  return move({ [transferableSymbol]: buffers, [valueSymbol]: result });
}
