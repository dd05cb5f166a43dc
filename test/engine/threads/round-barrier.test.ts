// The round barrier (src/engine/threads/round-barrier.ts) with a real worker thread: a thread that
// finishes while the main thread listens leaves its answer quietly and is told not to post, and
// the main thread takes the answer within listen(); without listening the last thread must post.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QUIET_STATUS_BYTES, QuietAnswer, RoundBarrier } from '../../../src/engine/threads/round-barrier.ts';
import { fixtures } from '../helpers.ts';

let thread: Worker | null = null;
afterEach(async () => {
  await thread?.terminate();
  thread = null;
});

/** One member with one thread; `go()` lets the thread answer after `delayMs`. */
async function round(barrier: RoundBarrier, length: number, delayMs: number) {
  const status = new SharedArrayBuffer(QUIET_STATUS_BYTES);
  const words = new Int32Array(status);
  const taken: number[] = [];
  const member = {
    takeQuiet: () => {
      const got = QuietAnswer.take(words);
      if (got < 0) return false;
      taken.push(got);
      return true;
    },
  };
  const goBuffer = new SharedArrayBuffer(8);
  thread = new Worker(path.join(fixtures, 'quiet-thread.mjs'), {
    workerData: { status, counter: barrier.counter, go: goBuffer, length, delayMs },
  });
  const messages: Record<string, unknown>[] = [];
  const arrived = new Promise<void>((resolve) => {
    thread!.on('message', (m: Record<string, unknown>) => {
      messages.push(m);
      if ('mustPost' in m) resolve();
    });
  });
  await new Promise<void>((resolve) => thread!.once('message', () => resolve()));
  barrier.enter(member);
  const go = (): void => {
    Atomics.store(new Int32Array(goBuffer), 0, 1);
    Atomics.notify(new Int32Array(goBuffer), 0);
  };
  return { taken, go, answered: arrived.then(() => messages.find((m) => 'mustPost' in m)!['mustPost'] as boolean) };
}

describe('round barrier', () => {
  it('a listening main thread takes the last answer itself; the thread posts nothing', async () => {
    const barrier = new RoundBarrier(true);
    const { taken, go, answered } = await round(barrier, 42, 50);
    go();
    barrier.listen(5000); // returns once the answer is left (after the thread's 50 ms pause)
    expect(taken).toEqual([42]);
    expect(await answered).toBe(false);
  });

  it('not listening (no core to spare, or the time ran out first): the last thread must post', async () => {
    for (const barrier of [new RoundBarrier(false), new RoundBarrier(true)]) {
      const { taken, go, answered } = await round(barrier, 7, 100);
      go();
      barrier.listen(1); // gives up long before the thread answers (or does not listen at all)
      expect(taken).toEqual([]);
      expect(await answered).toBe(true);
      barrier.sweep(); // what the engine does on the wake-up
      expect(taken).toEqual([7]);
      await thread!.terminate();
    }
  });
});
