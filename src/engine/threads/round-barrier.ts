// One wake-up of the main thread per round, however many module threads work in it. A thread that
// finishes while others of the engine still work leaves its answer in shared memory and says
// nothing; the last one to finish posts, and the main thread then collects every quiet answer.
// Each wake-up costs the main thread a trip through the kernel and, worse, a core that another
// module thread was computing on (bare threads: +3% rounds/s on two cores).
//
// The main thread can even be spared that one wake-up: right after handing a round out (and
// starting the previous session's store), an engine whose rounds have been answering quickly
// listens for a short while (`listen`). The last thread to finish then sees it listening, leaves
// its answer quietly too and marks the round answered instead of posting; the main thread takes
// the answers at once. Waking the main thread through its event loop costs tens of µs on these
// machines, more than a small round's work in the thread (bench:engine (b)). An engine listens
// only when it has a core to spare (as its threads watch their doorbells, doorbell.ts).
//
// Shared words: per engine [requests handed out and not yet finished, listening state (a spin
// word, spin-wait.ts: Waiting = the main thread listens, Delivered = the round is answered)], and
// per thread a status word pair [state, output length] (QUIET_STATUS_BYTES).
import { deliverToSpinner, spinWhileWaiting, SpinWord, TypicalWait } from './spin-wait.ts';

export const QUIET_STATUS_BYTES = 8;

const enum Quiet {
  None = 0,
  /** The thread's answer is an output batch of `length` bytes in the buffer the engine knows. */
  Ready = 1,
}

const enum Word {
  Counter = 0,
  Listening = 1,
}

/** How long the main thread listens, and the typical wait beyond which it does not bother. */
const LISTEN_MS = 0.1;

/** Engine side: counts requests out, and collects quiet answers when some thread posts. */
export class RoundBarrier {
  /** [Word.Counter, Word.Listening] */
  readonly counter = new Int32Array(new SharedArrayBuffer(8));
  readonly #waiting = new Set<QuietMember>();
  readonly #mayListen: boolean;
  /** From listening to the round's last answer. */
  readonly #typicalWait = new TypicalWait(LISTEN_MS);

  /** `mayListen`: whether the main thread may spin for answers (a core to spare). */
  constructor(mayListen = false) {
    this.#mayListen = mayListen;
  }

  /**
   * After the round's requests are out: waits up to LISTEN_MS for its last answer, spinning,
   * and takes every quiet answer if it came. Without one, the answers come as messages as ever.
   */
  listen(maxMs = LISTEN_MS): void {
    if (!this.#mayListen || this.#waiting.size === 0 || !this.#typicalWait.worthSpinning) return;
    const words = this.counter;
    const start = performance.now();
    Atomics.store(words, Word.Listening, SpinWord.Waiting);
    if (!spinWhileWaiting(words, Word.Listening, maxMs)) {
      this.#typicalWait.noteTimeout();
      return;
    }
    Atomics.store(words, Word.Listening, SpinWord.Off);
    this.#typicalWait.note(performance.now() - start);
    this.sweep();
  }


  /** Before a request goes to a member's thread. */
  enter(member: QuietMember): void {
    // Nothing out: whatever a dead thread left in the count is forgotten.
    if (this.#waiting.size === 0) Atomics.store(this.counter, Word.Counter, 0);
    this.#waiting.add(member);
    Atomics.add(this.counter, Word.Counter, 1);
  }

  /** The member's answer arrived as a message. */
  leave(member: QuietMember): void {
    this.#waiting.delete(member);
  }

  /** The member's thread ended with a request out: it will never count itself finished. */
  abandon(member: QuietMember): void {
    if (!this.#waiting.delete(member)) return;
    Atomics.sub(this.counter, Word.Counter, 1);
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

  /**
   * Leaves an output batch of `length` bytes; true if this thread must post a wake-up (it
   * finished last and the main thread does not listen).
   */
  leave(length: number): boolean {
    this.#status[1] = length;
    Atomics.store(this.#status, 0, Quiet.Ready);
    return this.finish();
  }

  /**
   * Counts this thread finished; true if it finished last and the main thread does not listen.
   * A thread whose answer goes as a message anyway calls it too: a listening main thread then
   * stops listening and reads the message.
   */
  finish(): boolean {
    if (Atomics.sub(this.#counter, Word.Counter, 1) > 1) return false;
    return !deliverToSpinner(this.#counter, Word.Listening);
  }

  /** Engine side of the same words: the length of a quiet answer, or -1 if there is none. */
  static take(status: Int32Array): number {
    if (Atomics.load(status, 0) !== Quiet.Ready) return -1;
    Atomics.store(status, 0, Quiet.None);
    return status[1] as number;
  }
}
