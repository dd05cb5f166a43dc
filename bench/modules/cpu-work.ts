// The benchmark's CPU-heavy module: a fixed amount of integer work per event (conf.iterations),
// the same wherever the module runs. It allocates nothing: a loop that spins on the clock instead
// allocates a number per reading, and the garbage collections that follow (~300/s per busy thread)
// compete with the other threads for the two cores, so the benchmark would measure the collector.
import type { Module, ModuleConf } from '../../src/engine/types.ts';

export const stateless = true;

/** `n` rounds of xorshift; returns the state so the work cannot be optimised away. */
export function burn(n: number): number {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

/** Iterations of `burn` that take about `micros` µs on this thread now. */
export function calibrate(micros: number): number {
  burn(1e6); // optimised before timing
  for (let n = 1e5; ; n *= 2) {
    const start = performance.now();
    burn(n);
    const ms = performance.now() - start;
    if (ms > 50) return Math.max(1, Math.round((n * micros) / 1000 / ms));
  }
}

/** Where results of `burn` go (a property write is never dead code). */
export const sink = { x: 0 };

export function create(conf: ModuleConf): Module {
  const iterations = typeof conf['iterations'] === 'number' ? conf['iterations'] : 0;
  return {
    subscription: [['*']],
    process() {
      sink.x ^= burn(iterations);
      return [];
    },
  };
}
