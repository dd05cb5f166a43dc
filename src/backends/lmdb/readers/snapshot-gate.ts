// When a reader thread may start an LMDB snapshot. Reader threads open the file without LMDB's
// lock table (lock-free-env.ts explains why), so LMDB cannot keep the writer away from them;
// this gate, in memory the threads share, does instead:
// - a reader starts its snapshot (reading the meta page) only while no commit is writing one:
//   the writer closes the gate around every commit and waits for snapshots being started;
// - the pages a reader's snapshot uses stay unreused because the main thread holds a read
//   transaction of its own (in the lock table) from before the reader's snapshot started until
//   it ended (reader-pool.ts);
// - the map never grows under a reader: before reopening the environment larger the writer
//   waits until no reader holds a snapshot, and bumps the generation so a reader reopens its
//   own (larger) map before its next snapshot, and a task dispatched before the growth (whose
//   main-thread pin died with the old environment) is sent again.
// The begin protocol is Dekker's: a reader announces itself (BEGINNING) and then checks the
// gate; the writer closes the gate and then waits for announced readers, all with
// sequentially consistent Atomics.

const COMMITTING = 0;
const BEGINNING = 1;
const ACTIVE = 2;
const GENERATION = 3;
const WORDS = 4;

/** Node 20 has it; TypeScript's ES2022 library does not declare it. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { value: Promise<string> | string };
}).waitAsync;

/** Main-thread side: the writer. */
export class SnapshotGate {
  readonly buffer = new SharedArrayBuffer(WORDS * Int32Array.BYTES_PER_ELEMENT);
  readonly #words = new Int32Array(this.buffer);

  get generation(): number {
    return Atomics.load(this.#words, GENERATION);
  }

  /** Closes the gate; resolves once no reader is starting a snapshot. */
  async close(): Promise<void> {
    Atomics.store(this.#words, COMMITTING, 1);
    await this.#until(BEGINNING);
  }

  open(): void {
    Atomics.store(this.#words, COMMITTING, 0);
    Atomics.notify(this.#words, COMMITTING);
  }

  /**
   * With the gate closed: resolves once no reader holds a snapshot, then starts a new
   * generation. `stillRunning` says whether any task is still in flight: a thread that died
   * while reading never leaves, and its count is dropped once nothing runs any more.
   */
  async drain(stillRunning: () => boolean): Promise<void> {
    while (Atomics.load(this.#words, ACTIVE) !== 0 && stillRunning()) {
      await waitAsync(this.#words, ACTIVE, Atomics.load(this.#words, ACTIVE), 50).value;
    }
    Atomics.store(this.#words, ACTIVE, 0);
    Atomics.add(this.#words, GENERATION, 1);
  }

  async #until(index: number): Promise<void> {
    for (let value = Atomics.load(this.#words, index); value !== 0; value = Atomics.load(this.#words, index)) {
      await waitAsync(this.#words, index, value, 50).value;
    }
  }
}

/** Reader-thread side. */
export class SnapshotGateReader {
  readonly #words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#words = new Int32Array(buffer);
  }

  /**
   * Runs `begin` (open the environment if needed and start the snapshot) with the gate open
   * and no commit writing; blocks this thread while a commit runs. Returns false, without
   * calling `begin`, when the task was dispatched in an older generation.
   */
  enter(generation: number, begin: () => void): boolean {
    const w = this.#words;
    for (;;) {
      Atomics.add(w, BEGINNING, 1);
      if (Atomics.load(w, COMMITTING) === 0) break;
      this.#leave(BEGINNING);
      Atomics.wait(w, COMMITTING, 1);
    }
    try {
      if (Atomics.load(w, GENERATION) !== generation) return false;
      begin();
      Atomics.add(w, ACTIVE, 1);
      return true;
    } finally {
      this.#leave(BEGINNING);
    }
  }

  /** The snapshot `enter` started has ended. */
  exit(): void {
    this.#leave(ACTIVE);
  }

  #leave(index: number): void {
    Atomics.sub(this.#words, index, 1);
    Atomics.notify(this.#words, index);
  }
}
