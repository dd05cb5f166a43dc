// One live status line on a terminal (stderr), redrawn in place at most ten times a second and
// erased when done; on anything else it writes nothing, so logs and pipes get only results.
import type { CliIo } from './io.ts';

const REDRAW_MS = 100;

export class ProgressLine {
  readonly #stream: CliIo['stderr'];
  readonly #live: boolean;
  #drawnAt = 0;
  #shown = false;

  constructor(stream: CliIo['stderr']) {
    this.#stream = stream;
    this.#live = stream.isTTY === true;
  }

  get live(): boolean {
    return this.#live;
  }

  /** Redraws the line with `text()` unless it was drawn less than 100 ms ago (or `force`). */
  update(text: () => string, force = false): void {
    if (!this.#live) return;
    const at = performance.now();
    if (!force && at - this.#drawnAt < REDRAW_MS) return;
    this.#drawnAt = at;
    const columns = this.#stream.columns ?? 0; // 0 on a terminal that does not say
    const width = columns > 20 ? columns - 1 : 79;
    this.#stream.write(`\r\x1b[2K${text().slice(0, width)}`);
    this.#shown = true;
  }

  clear(): void {
    if (this.#shown) this.#stream.write('\r\x1b[2K');
    this.#shown = false;
  }
}

/** `[#######.............]` for a fraction in 0..1. */
export function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** `1h02m`, `3m05s`, `12s`. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(Math.round(seconds), 0);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
