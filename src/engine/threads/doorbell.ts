// A quicker way to hand a module's thread its next request than a message. Right after answering,
// a thread whose requests have been coming quickly watches a shared word for a short while; the
// engine writes the request's few numbers there and needs no postMessage: here a post costs the
// main thread ~30 µs (it wakes the sleeping thread through the kernel), and the thread took as
// long again to wake. A thread that stops watching says so first, and then gets messages again.
// Threads watch only when the engine has fewer module threads than the machine has cores, so
// watching never takes a core that another module thread or the main thread needs.

const enum Slot {
  /** Int32 slots; the state is the only word both sides change, always atomically. */
  State = 0,
  Kind = 1,
  /** Float64 slots (session ids outgrow 32 bits), written before the state changes and read after. */
  Session = 1,
  Length = 2,
}

const enum State {
  /** The thread takes requests as messages. */
  Listening = 0,
  /** The thread watches the bell. */
  Watching = 1,
  /** A request is in the slots. */
  Rung = 2,
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
  /** Smoothed wait between answering and the next request (thread side), in ms. */
  #typicalWait = 0;
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
    if (Atomics.load(this.#slots, Slot.State) !== State.Watching) return false;
    this.#slots[Slot.Kind] = kind;
    this.#numbers[Slot.Session] = session;
    this.#numbers[Slot.Length] = length;
    // The atomic exchange publishes the plain writes above to the thread that sees `Rung`.
    return Atomics.compareExchange(this.#slots, Slot.State, State.Watching, State.Rung) === State.Watching;
  }

  /**
   * Thread side, before it sends an answer: whether it will watch for the next request (it then
   * must call `watch`). Deciding before the answer leaves no moment in which the engine could see
   * the thread listening and post a message that would wait behind the watching.
   */
  willWatch(): boolean {
    if (!this.#mayWatch || this.#typicalWait > WATCH_MS) return false;
    Atomics.store(this.#slots, Slot.State, State.Watching);
    return true;
  }

  /** Thread side: the next request if it comes within the watch, else null (listening again). */
  watch(): BellRequest | null {
    const start = performance.now();
    const until = start + WATCH_MS;
    let request: BellRequest | null = null;
    for (let i = 1; ; i++) {
      if (Atomics.load(this.#slots, Slot.State) === State.Rung) {
        request = this.#take();
        break;
      }
      // The clock only now and then: each reading allocates.
      if ((i & 1023) === 0 && performance.now() > until) {
        if (Atomics.compareExchange(this.#slots, Slot.State, State.Watching, State.Listening) === State.Watching) break;
        request = this.#take(); // rung just now
        break;
      }
    }
    this.noteWait(request ? performance.now() - start : WATCH_MS * 2);
    return request;
  }

  /** Thread side: a request came as a message after `ms` of waiting. */
  noteWait(ms: number): void {
    // Capped, so that after an idle spell a few quick requests are enough to start watching again.
    this.#typicalWait = this.#typicalWait * 0.75 + Math.min(ms, 2 * WATCH_MS) * 0.25;
  }

  #take(): BellRequest {
    const request = {
      kind: this.#slots[Slot.Kind] as RequestKind,
      session: this.#numbers[Slot.Session] as number,
      length: this.#numbers[Slot.Length] as number,
    };
    Atomics.store(this.#slots, Slot.State, State.Listening);
    return request;
  }
}
