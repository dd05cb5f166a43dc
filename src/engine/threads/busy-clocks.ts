// How long each place a module runs (its own thread, a pool thread, the main thread) has been on
// its current request, in memory the engine's watchdog thread shares: the main thread cannot
// report a module that blocks it, so another thread reads these words (watchdog-side.ts). Times
// are milliseconds since the epoch (performance.timeOrigin + now()), the same in every thread.

const WORDS = 2; // per clock: [since (0: idle), session]

const ORIGIN = performance.timeOrigin;

export function epochMs(): number {
  return ORIGIN + performance.now();
}

export class BusyClocks {
  readonly buffer: SharedArrayBuffer;
  readonly #words: Float64Array;

  constructor(from: number | SharedArrayBuffer) {
    this.buffer = typeof from === 'number' ? new SharedArrayBuffer(Math.max(1, from) * WORDS * 8) : from;
    this.#words = new Float64Array(this.buffer);
  }

  get capacity(): number {
    return this.#words.length / WORDS;
  }

  begin(index: number, session: number): void {
    this.#words[index * WORDS + 1] = session;
    this.#words[index * WORDS] = epochMs();
  }

  end(index: number): void {
    this.#words[index * WORDS] = 0;
  }

  /** When the current request began, or 0 when the clock is idle. */
  since(index: number): number {
    return this.#words[index * WORDS] as number;
  }

  session(index: number): number {
    return this.#words[index * WORDS + 1] as number;
  }
}

export interface Overdue {
  session: number;
  /** How long the request has taken so far. */
  ms: number;
}

/**
 * When each clock warns: `everyMs` after its request began, then every `everyMs` again, for as
 * long as the request lasts. Each thread that warns keeps its own.
 */
export class WarningSchedule {
  readonly #since = new Map<number, number>();
  readonly #next = new Map<number, number>();

  due(clocks: BusyClocks, index: number, everyMs: number, now: number): Overdue | null {
    const since = clocks.since(index);
    if (since === 0) return null;
    if (this.#since.get(index) !== since) {
      this.#since.set(index, since);
      this.#next.set(index, since + everyMs);
    }
    const next = this.#next.get(index) as number;
    if (now < next) return null;
    this.#next.set(index, next + everyMs * Math.ceil((now - next + 1) / everyMs));
    return { session: clocks.session(index), ms: now - since };
  }
}

/** The warning line, the same from every thread: variable parts in the fields. */
export const STUCK_MESSAGE = 'module still processing a session';

export function stuckFields(label: string, overdue: Overdue): Record<string, unknown> {
  return { module: label, session: overdue.session, seconds: Math.round(overdue.ms / 100) / 10 };
}
