// What these two vCPUs give at best, measured beside the engine in the same run: the same work as
// the CPU-heavy setups, split over bare worker threads that get a plain message per round and
// answer with one (no engine, no events). The engine's ratios can only approach these.
import { Worker } from 'node:worker_threads';
import { burn, sink } from './modules/cpu-work.ts';

const THREAD = `
const { parentPort } = require('node:worker_threads');
const burn = ${burn.toString()};
let sink = 0;
parentPort.on('message', ({ calls, iterations }) => {
  for (let i = 0; i < calls; i++) sink ^= burn(iterations);
  parentPort.postMessage(sink & 0);
});`;

export interface Ceiling {
  /** Rounds per second: `calls` burns on the main thread (as with workers: 0). */
  main: number;
  /** Rounds per second: `calls` burns on each of two threads at once (as (d) with workers: 1). */
  twoThreadsFull: number;
  /** Rounds per second: `calls` burns on one thread (as (e) with workers: 1). */
  oneThread: number;
  /** Rounds per second: `calls / 2` burns on each of two threads (as (e) with workers: 2). */
  twoThreadsHalf: number;
}

export async function measureCeiling(iterations: number, calls: number, seconds: number): Promise<Ceiling> {
  const threads = [0, 1].map(() => new Worker(THREAD, { eval: true }));
  const round = (on: Worker[], n: number) =>
    Promise.all(
      on.map(
        (thread) =>
          new Promise((resolve) => {
            thread.once('message', resolve);
            thread.postMessage({ calls: n, iterations });
          }),
      ),
    );
  const rate = async (step: () => unknown, s: number) => {
    const start = performance.now();
    let rounds = 0;
    while (performance.now() - start < s * 1000) {
      await step();
      rounds++;
    }
    return rounds / ((performance.now() - start) / 1000);
  };
  const [a, b] = threads as [Worker, Worker];
  try {
    await rate(() => round(threads, calls), 0.3); // warm-up
    const result: Ceiling = {
      main: await rate(() => {
        for (let i = 0; i < 2 * calls; i++) sink.x ^= burn(iterations);
      }, seconds),
      twoThreadsFull: await rate(() => round([a, b], calls), seconds),
      oneThread: await rate(() => round([a], calls), seconds),
      twoThreadsHalf: await rate(() => round([a, b], calls / 2), seconds),
    };
    return result;
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}
