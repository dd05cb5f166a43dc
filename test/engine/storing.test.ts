// The engine stores a session while the next session's modules work (engine.ts). What it must keep
// from sequential execution: a module sees every earlier session in queries, callers and callbacks
// get their sessions in order, and a failing backend leaves no caller waiting.
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import type { Backend } from '../../src/backends/backend.ts';
import type { Event } from '../../src/common/types.ts';
import { EVENTER, fixtures, jsonEvent, payloadValue, recordingBackend } from './helpers.ts';
import type { RecordingBackend } from './helpers.ts';

let engine: Engine | null = null;
afterEach(async () => {
  await engine?.close();
  engine = null;
});

/** A recording memory backend whose every register takes `ms` first; `failAt` makes that call fail. */
async function slowBackend(ms: number, failAt?: number): Promise<RecordingBackend> {
  const inner = await recordingBackend();
  let calls = 0;
  const register: Backend['register'] = async (events) => {
    const call = ++calls;
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (call === failAt) throw new Error('disk on fire');
    return inner.register(events);
  };
  return { ...inner, register };
}

for (const workers of [0, 1]) {
  describe(`storing overlaps the next session (workers: ${workers})`, () => {
    it('a module querying in a session sees every earlier session, even with a slow backend', async () => {
      const backend = await slowBackend(30);
      engine = await createEngine({ server_id: 1, modules: [{ module: 'sees-stored.ts', workers }] }, backend, { baseDir: fixtures });
      // Queued together, so each session starts while the one before is being stored.
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((name) => engine!.register(EVENTER, [jsonEvent(['probe', name], name)])));
      const seen = backend.calls.flat().filter((e) => e.type[0] === 'seen');
      expect(seen.map((e) => [e.type[1], payloadValue(e)])).toEqual([
        ['a', 0],
        ['b', 1],
        ['c', 2],
        ['d', 3],
      ]);
      expect(results.map((r) => r[0]?.id.session)).toEqual([2, 3, 4, 5]);
    });

    it('callers and callbacks get their sessions in order', async () => {
      const backend = await slowBackend(5);
      engine = await createEngine({ server_id: 1, modules: [{ module: 'sees-stored.ts', workers }] }, backend, { baseDir: fixtures });
      const notified: number[] = [];
      const answered: number[] = [];
      engine.onEvents((events) => notified.push((events[0] as Event).id.session));
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          engine!.register(EVENTER, [jsonEvent(['probe', String(i)], i)]).then((r) => answered.push((r[0] as Event).id.session)),
        ),
      );
      const sessions = Array.from({ length: 10 }, (_, i) => i + 2);
      expect(answered).toEqual(sessions);
      expect(notified.filter((s) => s > 1)).toEqual(sessions);
    });

    it('a backend that fails rejects that session and the one running after it, and closes the engine', async () => {
      // Call 1 stores STARTED, call 2 the first probe session: it fails while the second runs.
      const backend = await slowBackend(20, 2);
      engine = await createEngine({ server_id: 1, modules: [{ module: 'sees-stored.ts', workers }] }, backend, { baseDir: fixtures });
      const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((name) => engine!.register(EVENTER, [jsonEvent(['probe', name], name)])));
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/disk on fire/);
      await engine.closed;
      expect(engine.failure?.message).toMatch(/disk on fire/);
      const stored = backend.calls.flat();
      expect(stored.map(payloadValue)).toEqual(['STARTED', 'STOPPED']);
    });
  });
}
