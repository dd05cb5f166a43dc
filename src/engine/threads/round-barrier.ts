// One wake-up of the main thread per round, however many module threads work in it. A thread that
// finishes while others of the engine still work leaves its answer in shared memory and says
// nothing; the last one to finish posts, and the main thread then collects every quiet answer.
// Each wake-up costs the main thread a trip through the kernel and, worse, a core that another
// module thread was computing on (bare threads: +3% rounds/s on two cores).
//
// Shared words: one counter per engine (requests handed out and not yet finished), and per thread
// a status word pair [state, output length] (QUIET_STATUS_BYTES).

export const QUIET_STATUS_BYTES = 8;

const enum Quiet {
  None = 0,
  /** The thread's answer is an output batch of `length` bytes in the buffer the engine knows. */
  Ready = 1,
}

/** Engine side: counts requests out, and collects quiet answers when some thread posts. */
export class RoundBarrier {
  readonly counter = new Int32Array(new SharedArrayBuffer(4));
  readonly #waiting = new Set<QuietMember>();

  /** Before a request goes to a member's thread. */
  enter(member: QuietMember): void {
    // Nothing out: whatever a dead thread left in the count is forgotten.
    if (this.#waiting.size === 0) Atomics.store(this.counter, 0, 0);
    this.#waiting.add(member);
    Atomics.add(this.counter, 0, 1);
  }

  /** The member's answer arrived as a message. */
  leave(member: QuietMember): void {
    this.#waiting.delete(member);
  }

  /** The member's thread ended with a request out: it will never count itself finished. */
  abandon(member: QuietMember): void {
    if (!this.#waiting.delete(member)) return;
    Atomics.sub(this.counter, 0, 1);
    this.sweep();
  }

  /** After any message from a member's thread: takes every answer left quietly. */
  sweep(): void {
    for (const member of this.#waiting) {
      if (member.takeQuiet()) this.#waiting.delete(member);
    }
  }
}

export interface QuietMember {
  /** Takes the thread's quiet answer if there is one; false if the thread still works. */
  takeQuiet(): boolean;
}

/** Thread side: the status words of one thread and the engine's counter. */
export class QuietAnswer {
  readonly #status: Int32Array;
  readonly #counter: Int32Array;

  constructor(
    status: SharedArrayBuffer,
    counter: Int32Array,
  ) {
    this.#counter = counter;
    this.#status = new Int32Array(status);
  }

  /** Leaves an output batch of `length` bytes; true if this thread must post (it finished last). */
  leave(length: number): boolean {
    this.#status[1] = length;
    Atomics.store(this.#status, 0, Quiet.Ready);
    return this.finish();
  }

  /** Counts this thread finished (its answer goes as a message anyway); true if it finished last. */
  finish(): boolean {
    return Atomics.sub(this.#counter, 0, 1) <= 1;
  }

  /** Engine side of the same words: the length of a quiet answer, or -1 if there is none. */
  static take(status: Int32Array): number {
    if (Atomics.load(status, 0) !== Quiet.Ready) return -1;
    Atomics.store(status, 0, Quiet.None);
    return status[1] as number;
  }
}
