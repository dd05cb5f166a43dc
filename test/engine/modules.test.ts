// Engine cases 62, 63, 66, 67 (numbered labels; docs/modules.md), each in every placement a
// module can have, plus the module's own calls back into the engine.
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import type { Event, Source } from '../../src/common/types.ts';
import { jsonPayloadFromText } from '../../src/common/json-payload.ts';
import { EVENTER, fixtures, jsonEvent, payloadValue, readLog, recordingBackend, tempFile, waitFor } from './helpers.ts';

let engine: Engine | null = null;
afterEach(async () => {
  await engine?.close();
  engine = null;
});

const M = 3;

/** calls-engine.ts registers through its ModuleEngine, queries, and reports what it found. */
async function expectModuleCallsEngine(workers: number): Promise<void> {
  engine = await createEngine({ server_id: 1, modules: [{ module: 'calls-engine.ts', workers }] }, await recordingBackend(), {
    baseDir: fixtures,
  });
  // A payload that keeps its JSON text (as from the wire or LMDB) must reach the module intact.
  await engine.register(EVENTER, [{ type: ['stored'], sourceTimestamp: null, payload: jsonPayloadFromText('{"v": 1.0}') }]);
  const result = waitFor<Event[]>(
    (cb) => engine!.onEvents(cb),
    (events) => events[0]?.type[0] === 'query-result',
  );
  await engine.register(EVENTER, [jsonEvent(['trigger'], 1)]);
  const [event] = await result;
  // The trigger is session 3, the module's own register session 4, its report session 5.
  expect(event?.payload).toEqual({ type: 'json', data: { count: 1, session: 4, stored: { v: 1 }, storedText: '{"v": 1.0}' } });
  expect(event?.id.session).toBe(5);
}

for (const workers of [0, 1]) {
  describe(`modules with workers: ${workers}`, () => {
    async function countdownEngine(log: string) {
      const backend = await recordingBackend();
      const modules = Array.from({ length: M }, () => ({ module: 'countdown.ts', workers, log }));
      engine = await createEngine({ server_id: 1, modules }, backend, { baseDir: fixtures });
      return backend;
    }

    it('62: outputs chain in rounds, module order then input order; every module sees every session', async () => {
      const log = tempFile('log.jsonl');
      const backend = await countdownEngine(log);
      const v = 3;
      const result = await engine!.register(EVENTER, [jsonEvent(['count'], v)]);
      expect(result).toHaveLength(1);
      const session = backend.calls.at(-1) as Event[];
      const expected = [v];
      for (let k = v - 1; k >= 0; k--) expected.push(...Array(M).fill(k));
      expect(session.map(payloadValue)).toEqual(expected);
      expect(session.map((e) => e.id.instance)).toEqual(session.map((_, i) => 2 + i));
      const entries = readLog(log);
      for (let m = 0; m < M; m++) {
        const mine = entries.filter((e) => e['module'] === m);
        expect(mine.filter((e) => 'start' in e).map((e) => e['start'])).toEqual([1, 2]);
        expect(mine.filter((e) => 'stop' in e).map((e) => e['stop'])).toEqual([1, 2]);
      }
    });

    it('63: process sees STARTED from the engine, then the eventer event, then all module outputs in module order', async () => {
      const log = tempFile('log.jsonl');
      await countdownEngine(log);
      await engine!.register(EVENTER, [jsonEvent(['count'], 2)]);
      const moduleSources: Source[] = Array.from({ length: M }, (_, id) => ({ type: 'module', id }));
      for (let m = 0; m < M; m++) {
        const sources = readLog(log)
          .filter((e) => e['module'] === m && 'process' in e)
          .map((e) => e['process']);
        // rounds: STARTED; the eventer event; outputs 1 (from every module); outputs 0 (from every module)
        expect(sources).toEqual([{ type: 'engine', id: 0 }, EVENTER, ...moduleSources, ...moduleSources]);
      }
    });

    it('66: a module whose process throws closes the engine, rejects the call naming the module, stores STOPPED', async () => {
      const backend = await recordingBackend();
      engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers }] }, backend, { baseDir: fixtures });
      const queued = engine.register(EVENTER, [jsonEvent(['later'], 1)]);
      await expect(engine.register(EVENTER, [jsonEvent(['fail', 'throw'], 1)])).rejects.toThrow(
        /module 0 \(failing\.ts\).*process failed on purpose/,
      );
      await expect(queued).resolves.toHaveLength(1); // queued before the failing one: it ran first
      await engine.closed;
      expect(engine.failure?.message).toMatch(/module 0 \(failing\.ts\)/);
      await expect(engine.register(EVENTER, [jsonEvent(['x'], 1)])).rejects.toThrow(/closed/);
      const last = backend.calls.at(-1) as Event[];
      expect(last.map((e) => payloadValue(e))).toEqual(['STOPPED']);
      expect(backend.calls.flat().some((e) => e.type[0] === 'fail')).toBe(false);
    });

    it('66: requests queued behind a failing session are rejected', async () => {
      engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers }] }, await recordingBackend(), {
        baseDir: fixtures,
      });
      const failing = engine.register(EVENTER, [jsonEvent(['fail', 'throw'], 1)]);
      const behind = engine.register(EVENTER, [jsonEvent(['ok'], 1)]);
      await expect(failing).rejects.toThrow(/process failed on purpose/);
      await expect(behind).rejects.toThrow(/module engine closed/);
    });

    it('67: a module that closes itself closes the engine, and STOPPED is stored', async () => {
      const backend = await recordingBackend();
      engine = await createEngine({ server_id: 1, modules: [{ module: 'self-closing.ts', workers, sessions: 2 }] }, backend, {
        baseDir: fixtures,
      });
      await engine.register(EVENTER, [jsonEvent(['a'], 1)]); // second session: the module closes after it
      await engine.closed;
      expect(engine.failure?.message).toMatch(/module 0 \(self-closing\.ts\).*closed/);
      expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
    });

    it('hook failures (onSessionStart, onSessionStop) close the engine naming the module', async () => {
      for (const failIn of ['start', 'stop']) {
        const e = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers, failIn }] }, await recordingBackend(), {
          baseDir: fixtures,
        });
        await expect(e.register(EVENTER, [jsonEvent(['a'], 1)])).rejects.toThrow(new RegExp(`${failIn} hook failed on purpose`));
        await e.closed;
        await e.close();
      }
    });

    it('a module reaches the engine through its ModuleEngine (register and query)', async () => {
      await expectModuleCallsEngine(workers);
    });
  });
}

describe('pooled modules (workers: 3)', () => {
  it('a module reaches the engine from a pooled thread', async () => {
    await expectModuleCallsEngine(3);
  });

  it('66 (pooled): a module that throws closes the engine naming the module', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers: 2 }] }, backend, { baseDir: fixtures });
    await expect(engine.register(EVENTER, [jsonEvent(['fail', 'throw'], 1)])).rejects.toThrow(
      /module 0 \(failing\.ts\).*process failed on purpose/,
    );
    await engine.closed;
    expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
  });

  it('a module with session hooks cannot be pooled', async () => {
    const created = createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers: 2, failIn: 'stop' }] }, await recordingBackend(), {
      baseDir: fixtures,
    });
    await expect(created).rejects.toThrow(/module 0 \(failing\.ts\).*onSessionStart\/onSessionStop/);
  });

  it('a module that is not stateless cannot be pooled', async () => {
    const created = createEngine({ server_id: 1, modules: [{ module: 'countdown.ts', workers: 2 }] }, await recordingBackend(), {
      baseDir: fixtures,
    });
    await expect(created).rejects.toThrow(/module 0 \(countdown\.ts\).*stateless = true/);
  });
});
