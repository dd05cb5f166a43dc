// The snapshot gate (src/backends/lmdb/readers/snapshot-gate.ts) between the main thread and a
// real reader thread: no snapshot starts while a commit holds the gate, a growth waits for the
// snapshots held, and a task from an older generation is refused.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotGate } from '../../../src/backends/lmdb/readers/snapshot-gate.ts';

const fixture = path.join(import.meta.dirname, 'fixtures', 'gate-reader.mjs');
const threads: Worker[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.terminate()));
});

function readerThread(gate: SnapshotGate): { post(generation: number): void; next(): Promise<string>; release(): void } {
  const hold = new SharedArrayBuffer(4);
  const thread = new Worker(fixture, { workerData: { buffer: gate.buffer, hold } });
  threads.push(thread);
  const received: string[] = [];
  const waiting: ((m: string) => void)[] = [];
  thread.on('message', (m: string) => (waiting.length > 0 ? waiting.shift()!(m) : received.push(m)));
  return {
    post: (generation) => thread.postMessage({ generation }),
    next: () => (received.length > 0 ? Promise.resolve(received.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    release: () => {
      const words = new Int32Array(hold);
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
    },
  };
}

/** What arrives within `ms` (null: nothing): a gate that holds never lets it through. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return Promise.race([promise, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]);
}

describe('snapshot gate', () => {
  it('holds a reader while a commit runs; a growth waits for the snapshots held and refuses older tasks', async () => {
    const gate = new SnapshotGate();
    const reader = readerThread(gate);
    expect(await reader.next()).toBe('ready');
    const generation = gate.generation;

    await gate.close(); // a commit is writing
    reader.post(generation);
    const began = reader.next();
    expect(await within(began, 300)).toBeNull();
    gate.open();
    expect(await began).toBe('began');

    // The reader holds its snapshot: commits go on (no snapshot is being started)...
    await gate.close();
    // ...but the map may not be reopened until it is done.
    let drained = false;
    const drain = gate.drain(() => true).then(() => (drained = true));
    expect(await within(drain, 300)).toBeNull();
    expect(drained).toBe(false);
    reader.release();
    expect(await reader.next()).toBe('left');
    await drain;
    expect(gate.generation).toBe(generation + 1);
    gate.open();

    // A task sent before the growth is refused; one of the new generation runs.
    reader.post(generation);
    expect(await reader.next()).toBe('stale');
    reader.post(gate.generation);
    expect(await reader.next()).toBe('began');
    reader.release();
    expect(await reader.next()).toBe('left');
  });
});
