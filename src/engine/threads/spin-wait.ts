// Waiting for another thread by spinning on a shared word for a fraction of a millisecond, instead
// of sleeping until a message wakes us: the doorbell (a module thread waiting for its next
// request) and the round barrier (the main thread waiting for a round's last answer) both do it.
// The word goes Off -> Waiting (the waiter) -> Delivered (the other side, by compare-and-exchange
// from Waiting, so it knows the waiter saw it) or back to Off (the waiter giving up, likewise).
// Whoever finds the word not Waiting falls back to messages.

export const enum SpinWord {
  Off = 0,
  Waiting = 1,
  Delivered = 2,
}

/**
 * Spins while `words[index]` is Waiting, for at most `ms`. True: the other side delivered (the
 * word is then left Delivered for the caller to reset); false: timed out, the word is Off again.
 */
export function spinWhileWaiting(words: Int32Array, index: number, ms: number): boolean {
  const until = performance.now() + ms;
  for (let i = 1; ; i++) {
    if (Atomics.load(words, index) !== SpinWord.Waiting) return true;
    // The clock only now and then: each reading allocates.
    if ((i & 1023) === 0 && performance.now() > until) {
      return Atomics.compareExchange(words, index, SpinWord.Waiting, SpinWord.Off) !== SpinWord.Waiting;
    }
  }
}

/** The other side: delivers to a waiting spinner; false if nobody waits (send a message then). */
export function deliverToSpinner(words: Int32Array, index: number): boolean {
  return Atomics.compareExchange(words, index, SpinWord.Waiting, SpinWord.Delivered) === SpinWord.Waiting;
}

/**
 * A smoothed typical wait, to spin only while what is awaited has been coming within `limitMs`.
 * A wait is capped at twice the limit, so after a slow spell a few quick ones are enough again.
 */
export class TypicalWait {
  #ms = 0;

  constructor(readonly limitMs: number) {}

  note(ms: number): void {
    this.#ms = this.#ms * 0.75 + Math.min(ms, 2 * this.limitMs) * 0.25;
  }

  /** A wait that ended without the thing awaited. */
  noteTimeout(): void {
    this.note(2 * this.limitMs);
  }

  get worthSpinning(): boolean {
    return this.#ms <= this.limitMs;
  }
}
