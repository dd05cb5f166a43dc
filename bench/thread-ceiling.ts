// What these two vCPUs give at best, measured beside the engine in the same run: the same work as
// the CPU-heavy setups, split over bare worker threads that get a plain message per round and
// answer with one (no engine, no events). The engine's ratios can only approach these. Below even
// that, the compute limit: the threads meet at a spinning barrier after each round and nothing
// else runs (no main thread, no messages, no sleeping), so only the cores' own speed counts.
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

// Rounds of \`calls\` burns, then a spinning barrier on a shared counter; thread 0 calls time.
const SPINNING_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const burn = ${burn.toString()};
const { shared, index, threads, calls, iterations, seconds } = workerData;
const words = new Int32Array(shared); // [arrived, stop, ready]
let sink = 0;
burn(iterations); // optimised before the clock starts
Atomics.add(words, 2, 1);
while (Atomics.load(words, 2) < threads);
const start = performance.now();
let rounds = 0;
for (;;) {
  for (let i = 0; i < calls; i++) sink ^= burn(iterations);
  if (index === 0 && performance.now() - start > seconds * 1000) Atomics.store(words, 1, 1);
  rounds++;
  Atomics.add(words, 0, 1);
  while (Atomics.load(words, 0) < rounds * threads);
  if (Atomics.load(words, 1) === 1) break;
}
parentPort.postMessage({ rate: rounds / ((performance.now() - start) / 1000), sink: sink & 0 });`;

export interface Ceiling {
  /** Rounds per second: `calls` burns on the main thread (as with workers: 0). */
  main: number;
  /** Rounds per second: `calls` burns on each of two threads at once (as (d) with workers: 1). */
  twoThreadsFull: number;
  /** Rounds per second: `calls` burns on one thread (as (e) with workers: 1). */
  oneThread: number;
  /** Rounds per second: `calls / 2` burns on each of two threads (as (e) with workers: 2). */
  twoThreadsHalf: number;
  /** The compute limit of twoThreadsFull: two threads meeting at a spinning barrier, nothing else running. */
  spinningTwoFull: number;
  /** The compute limit of oneThread and twoThreadsHalf. */
  spinningOne: number;
  spinningTwoHalf: number;
}

async function spinningRate(threads: number, calls: number, iterations: number, seconds: number): Promise<number> {
  const shared = new SharedArrayBuffer(12);
  const workers = Array.from(
    { length: threads },
    (_, index) => new Worker(SPINNING_THREAD, { eval: true, workerData: { shared, index, threads, calls, iterations, seconds } }),
  );
  try {
    const [first] = await Promise.all(
      workers.map((worker) => new Promise<{ rate: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      })),
    );
    return (first as { rate: number }).rate;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
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
      spinningTwoFull: await spinningRate(2, calls, iterations, seconds),
      spinningOne: await spinningRate(1, calls, iterations, seconds),
      spinningTwoHalf: await spinningRate(2, calls / 2, iterations, seconds),
    };
    return result;
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}
