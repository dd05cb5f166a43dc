// The snapshot gate (src/backends/lmdb/readers/snapshot-gate.ts) between the main thread and a
// real reader thread: no snapshot starts while a commit holds the gate, and a snapshot held does
// not hold commits up.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotGate } from '../../../src/backends/lmdb/readers/snapshot-gate.ts';

const fixture = path.join(import.meta.dirname, 'fixtures', 'gate-reader.mjs');
const threads: Worker[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.terminate()));
});

function readerThread(gate: SnapshotGate): { post(): void; next(): Promise<string>; release(): void } {
  const hold = new SharedArrayBuffer(4);
  const thread = new Worker(fixture, { workerData: { buffer: gate.buffer, hold } });
  threads.push(thread);
  const received: string[] = [];
  const waiting: ((m: string) => void)[] = [];
  thread.on('message', (m: string) => (waiting.length > 0 ? waiting.shift()!(m) : received.push(m)));
  return {
    post: () => thread.postMessage('read'),
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
  it('holds a reader while a commit runs; a snapshot held does not hold the next commit', async () => {
    const gate = new SnapshotGate();
    const reader = readerThread(gate);
    expect(await reader.next()).toBe('ready');

    await gate.close(); // a commit is writing
    reader.post();
    const began = reader.next();
    expect(await within(began, 300)).toBeNull();
    gate.open();
    expect(await began).toBe('began');

    // The reader holds its snapshot: a commit closes the gate at once (no snapshot is being started).
    expect(await within(gate.close().then(() => 'closed'), 300)).toBe('closed');
    gate.open();
    reader.release();
    expect(await reader.next()).toBe('left');
    reader.post();
    expect(await reader.next()).toBe('began');
    reader.release();
    expect(await reader.next()).toBe('left');
  });
});
