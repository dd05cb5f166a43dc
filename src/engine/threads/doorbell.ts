// A quicker way to hand a module's thread its next request than a message. Right after answering,
// a thread whose requests have been coming quickly watches a shared word for a short while; the
// engine writes the request's few numbers there and needs no postMessage: here a post costs the
// main thread ~30 µs (it wakes the sleeping thread through the kernel), and the thread took as
// long again to wake. A thread that stops watching says so first, and then gets messages again.
// Threads watch only when the engine has fewer module threads than the machine has cores, so
// watching never takes a core that another module thread or the main thread needs. The state
// word is a spin word (spin-wait.ts): Off = the thread takes messages, Waiting = it watches,
// Delivered = a request is in the slots.
import { deliverToSpinner, spinWhileWaiting, SpinWord, TypicalWait } from './spin-wait.ts';

const enum Slot {
  /** Int32 slots; the state is the only word both sides change, always atomically. */
  State = 0,
  Kind = 1,
  /** Float64 slots (session ids outgrow 32 bits), written before the state changes and read after. */
  Session = 1,
  Length = 2,
}

export const enum RequestKind {
  Round = 1,
  Stop = 2,
}

export interface BellRequest {
  kind: RequestKind;
  session: number;
  /** Round: bytes of the batch in the thread's current input buffer. */
  length: number;
}

/** How long a thread watches, and the typical wait beyond which it does not bother. */
const WATCH_MS = 0.2;

export class Doorbell {
  readonly #slots: Int32Array;
  readonly #numbers: Float64Array;
  /** Between answering and the next request (thread side). */
  readonly #typicalWait = new TypicalWait(WATCH_MS);
  readonly #mayWatch;

  /** The engine side makes a fresh bell; the thread builds its side from the same buffer. */
  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(3 * 8),
    /** Thread side: whether this thread may watch at all. */
    mayWatch = false,
  ) {
    this.#mayWatch = mayWatch;
    this.#slots = new Int32Array(buffer, 0, 2);
    this.#numbers = new Float64Array(buffer);
  }

  /** Engine side: hands the request over if the thread watches; false means post a message. */
  ring(kind: RequestKind, session: number, length: number): boolean {
    if (Atomics.load(this.#slots, Slot.State) !== SpinWord.Waiting) return false;
    this.#slots[Slot.Kind] = kind;
    this.#numbers[Slot.Session] = session;
    this.#numbers[Slot.Length] = length;
    // The atomic exchange publishes the plain writes above to the thread that sees it delivered.
    return deliverToSpinner(this.#slots, Slot.State);
  }

  /**
   * Thread side, before it sends an answer: whether it will watch for the next request (it then
   * must call `watch`). Deciding before the answer leaves no moment in which the engine could see
   * the thread listening and post a message that would wait behind the watching.
   */
  willWatch(): boolean {
    if (!this.#mayWatch || !this.#typicalWait.worthSpinning) return false;
    Atomics.store(this.#slots, Slot.State, SpinWord.Waiting);
    return true;
  }

  /** Thread side: the next request if it comes within the watch, else null (listening again). */
  watch(): BellRequest | null {
    const start = performance.now();
    if (!spinWhileWaiting(this.#slots, Slot.State, WATCH_MS)) {
      this.#typicalWait.noteTimeout();
      return null;
    }
    this.#typicalWait.note(performance.now() - start);
    return this.#take();
  }

  /** Thread side: a request came as a message after `ms` of waiting. */
  noteWait(ms: number): void {
    this.#typicalWait.note(ms);
  }

  #take(): BellRequest {
    const request = {
      kind: this.#slots[Slot.Kind] as RequestKind,
      session: this.#numbers[Slot.Session] as number,
      length: this.#numbers[Slot.Length] as number,
    };
    Atomics.store(this.#slots, Slot.State, SpinWord.Off);
    return request;
  }
}
