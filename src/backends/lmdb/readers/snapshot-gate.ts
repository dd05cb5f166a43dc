// When a reader thread may start an LMDB snapshot. Reader threads open the file without LMDB's
// lock table (lock-free-env.ts explains why), so LMDB cannot keep the writer away from them;
// this gate, in memory the threads share, does instead:
// - a reader starts its snapshot (reading the meta page) only while no commit is writing one:
//   the writer closes the gate around every commit and waits for snapshots being started;
// - the pages a reader's snapshot uses stay unreused because the main thread holds a read
//   transaction of its own (in the lock table) from before the reader's snapshot started until
//   it ended (reader-pool.ts);
// - the map never changes (environment.ts MIN_MAP_SIZE), and a reader maps the writer's size.
// The begin protocol is Dekker's: a reader announces itself (BEGINNING) and then checks the
// gate; the writer closes the gate and then waits for announced readers, all with
// sequentially consistent Atomics.

const COMMITTING = 0;
const BEGINNING = 1;
const WORDS = 2;

/** Node 20 has it; TypeScript's ES2022 library does not declare it. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { value: Promise<string> | string };
}).waitAsync;

/** Main-thread side: the writer. */
export class SnapshotGate {
  readonly buffer = new SharedArrayBuffer(WORDS * Int32Array.BYTES_PER_ELEMENT);
  readonly #words = new Int32Array(this.buffer);

  /** Closes the gate; resolves once no reader is starting a snapshot. */
  async close(): Promise<void> {
    Atomics.store(this.#words, COMMITTING, 1);
    await this.#until(BEGINNING);
  }

  open(): void {
    Atomics.store(this.#words, COMMITTING, 0);
    Atomics.notify(this.#words, COMMITTING);
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
   * and no commit writing; blocks this thread while a commit runs.
   */
  enter(begin: () => void): void {
    const w = this.#words;
    for (;;) {
      Atomics.add(w, BEGINNING, 1);
      if (Atomics.load(w, COMMITTING) === 0) break;
      this.#leave(BEGINNING);
      Atomics.wait(w, COMMITTING, 1);
    }
    try {
      begin();
    } finally {
      this.#leave(BEGINNING);
    }
  }

  #leave(index: number): void {
    Atomics.sub(this.#words, index, 1);
    Atomics.notify(this.#words, index);
  }
}
