// Summaries the benchmarks print (the bench command and the programs in bench/).
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value below which a fraction `p` (0..1) of the samples lie; NaN without samples. */
export function percentile(xs: readonly number[], p: number): number {
  return percentileOfSorted([...xs].sort((a, b) => a - b), p);
}

/** `percentile` of values already sorted ascending (several percentiles, one sort). */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** A number for a table: grouped thousands, fixed decimals, '-' for NaN. */
export function fmt(n: number, digits = 0): string {
  return Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * A uniform sample of at most `capacity` values of a stream (Vitter's algorithm R), with the
 * exact count and maximum: percentiles of a long run without keeping every value.
 */
export class Reservoir {
  readonly #values: Float64Array;
  #count = 0;
  #max = -Infinity;

  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }

  add(value: number): void {
    if (value > this.#max) this.#max = value;
    const n = this.#count++;
    if (n < this.#values.length) this.#values[n] = value;
    else {
      const slot = Math.floor(Math.random() * (n + 1));
      if (slot < this.#values.length) this.#values[slot] = value;
    }
  }

  get count(): number {
    return this.#count;
  }

  /** -Infinity when empty */
  get max(): number {
    return this.#max;
  }

  /** The sample (a copy). */
  values(): Float64Array {
    return this.#values.slice(0, Math.min(this.#count, this.#values.length));
  }
}

/**
 * One uniform sample of several streams from their reservoirs' samples: each part is thinned
 * to the sampling rate of the most sampled-down one, so every stream weighs by its count.
 */
export function mergeSamples(parts: readonly { values: Float64Array; count: number }[]): Float64Array {
  const rate = Math.min(1, ...parts.filter((p) => p.count > 0).map((p) => p.values.length / p.count));
  const merged: number[] = [];
  for (const { values, count } of parts) {
    const keep = count === 0 ? 0 : rate / (values.length / count);
    for (const value of values) if (keep >= 1 || Math.random() < keep) merged.push(value);
  }
  return Float64Array.from(merged);
}
