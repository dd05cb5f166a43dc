// The main thread's side of the reader threads: a piscina pool (started on first use) whose
// tasks scan the LMDB file, each in a snapshot of its own (MVCC: they never block the writer
// or each other, and the main thread stays free for sessions). Per task the main thread
// holds a read transaction of its own, in the lock table, from before the task's snapshot
// starts until the task ends: LMDB then keeps every page of that snapshot (lock-free-env.ts
// says why the reader's own snapshot cannot do this). It is also the environment's commit
// observer, working the snapshot gate (snapshot-gate.ts).
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Logger } from '../../../common/logger.ts';
import { ResourceBase } from '../../../common/resource.ts';
import { workerEntry } from '../../../common/worker-entry.ts';
import type { LmdbBackendConf } from '../conf.ts';
import type { CommitObserver, Environment } from '../environment.ts';
import type { ScanPlan, ScanResult } from '../scan.ts';
import type { ReadReply, ReadTask } from './reader-thread.ts';
import { SnapshotGate } from './snapshot-gate.ts';

/** Reader threads run below the main thread's priority: a session never waits for a scan. */
const NICE_INCREMENT = 5;

/** Scans waiting for a thread; one more fails its query (each client has one query at a time). */
export const MAX_WAITING_SCANS = 1024;

export class ReaderPool extends ResourceBase implements CommitObserver {
  readonly #env: Environment;
  readonly #conditions: LmdbBackendConf['conditions'];
  readonly #threads: number;
  readonly #gate = new SnapshotGate();
  #pool: Piscina<ReadTask, ReadReply> | null = null;
  #inFlight = 0;
  /** settles when no task is in flight any more */
  #idle: Promise<void> = Promise.resolve();
  #becomeIdle: () => void = () => {};

  readonly #logger: Logger;

  constructor(env: Environment, conditions: LmdbBackendConf['conditions'], logger: Logger, threads = availableParallelism()) {
    super();
    this.#env = env;
    this.#conditions = conditions;
    this.#logger = logger;
    this.#threads = Math.max(1, threads);
  }

  /** Scans in a reader thread; `query` is the SBS-encoded query the plan was made from. */
  async scan(plan: ScanPlan, query: Uint8Array): Promise<ScanResult> {
    if (!this.isOpen) throw new Error('lmdb reader threads are closed');
    const task: ReadTask = {
      dbPath: this.#env.path,
      mapSize: this.#env.mapSize,
      gate: this.#gate.buffer,
      plan,
      query,
      conditions: this.#conditions,
    };
    const pin = this.#env.root.useReadTransaction();
    if (this.#inFlight++ === 0) this.#idle = new Promise((resolve) => (this.#becomeIdle = resolve));
    try {
      const pool = this.#piscina();
      if (pool.queueSize >= MAX_WAITING_SCANS) throw new Error(`lmdb reader threads: ${MAX_WAITING_SCANS} queries wait already (the bound of their queue)`);
      return await pool.run(task);
    } finally {
      if (--this.#inFlight === 0) this.#becomeIdle();
      pin.done();
    }
  }

  beforeCommit(): Promise<void> {
    return this.#gate.close();
  }

  afterCommit(): void {
    this.#gate.open();
  }

  /**
   * Waits for the tasks in flight (each is one bounded scan) before the threads end: ending a
   * thread inside lmdb-js's native code aborts the process.
   */
  protected override async teardown(): Promise<void> {
    await this.#idle;
    await this.#pool?.destroy();
  }

  #piscina(): Piscina<ReadTask, ReadReply> {
    if (this.#pool === null) {
      this.#logger.info(`lmdb: ${this.#threads} query reader threads start; they read the file without LMDB's lock table ` +
        '(MDB_NOLOCK), see docs/queries.md');
    }
    this.#pool ??= new Piscina<ReadTask, ReadReply>({
      filename: workerEntry('lmdb-reader').href,
      name: 'default',
      // Threads start only for a task, so every thread has loaded lmdb-js once its task is done
      // and the close (which waits for the tasks) never ends one mid-load: a thread ended while
      // lmdb-js registers its native module aborts the whole process (seen in the test suite).
      minThreads: 0,
      maxThreads: this.#threads,
      idleTimeout: 60_000,
      maxQueue: MAX_WAITING_SCANS,
      niceIncrement: NICE_INCREMENT,
    });
    return this.#pool;
  }
}
