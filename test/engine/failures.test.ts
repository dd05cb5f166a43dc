// Bad modules: each failure names the module (index and path), rejects what is pending, stores
// STOPPED where the engine had started, and never hangs.
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Event, RegisterEvent } from '../../src/common/types.ts';
import { createLmdbBackend } from '../../src/backends/lmdb/backend.ts';
import { EVENTER, fixtures, jsonEvent, payloadValue, recordingBackend } from './helpers.ts';
import { captureLogger } from '../helpers/logger.ts';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let engine: Engine | null = null;
afterEach(async () => {
  await engine?.close();
  engine = null;
});

async function createFails(modules: object[], pattern: RegExp) {
  const backend = await recordingBackend();
  await expect(createEngine({ server_id: 1, modules: modules as never }, backend, { baseDir: fixtures })).rejects.toThrow(pattern);
  // The engine that could not start still closes properly: STOPPED is its last word.
  expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
}

describe('module failures at creation', () => {
  for (const workers of [0, 1, 2]) {
    it(`a missing file is reported with the module's index and path (workers: ${workers})`, async () => {
      await createFails(
        [{ module: 'countdown.ts', workers: 0 }, { module: './does-not-exist.ts', workers }],
        new RegExp(`^module 1 \\(\\./does-not-exist\\.ts\\): not found: no file ${escape(path.join(fixtures, 'does-not-exist.ts'))}$`),
      );
    });

    it(`a file without create is reported (workers: ${workers})`, async () => {
      await createFails([{ module: 'no-create.ts', workers }], /module 0 \(no-create\.ts\): module file does not export a create function/);
    });
  }

  for (const workers of [0, 1]) {
    it(`a create that throws is reported (workers: ${workers})`, async () => {
      await createFails([{ module: 'create-throws.ts', workers }], /module 0 \(create-throws\.ts\).*create failed on purpose/);
    });

    it(`an invalid module conf names the module and the failing path (workers: ${workers})`, async () => {
      await createFails([{ module: 'threshold.ts', workers, threshold: 'high' }], /module 0 \(threshold\.ts\): invalid configuration: \/threshold: expected number/);
      await createFails([{ module: 'threshold.ts', workers }], /module 0 \(threshold\.ts\): invalid configuration: \/: missing required property 'threshold'/);
    });
  }

  for (const workers of [0, 1]) {
    it(`a valid module conf is accepted and gets the schema's defaults (workers: ${workers})`, async () => {
      const conf = { module: 'threshold.ts', workers, threshold: 3 };
      const backend = await recordingBackend();
      engine = await createEngine({ server_id: 1, modules: [conf] }, backend, { baseDir: fixtures });
      await engine.register(EVENTER, [jsonEvent(['echo-conf'], 1)]);
      const echoed = (backend.calls.at(-1) as Event[]).find((e) => e.type[0] === 'conf');
      expect(echoed?.payload).toEqual({ type: 'json', data: { threshold: 3, unit: 'C' } });
      expect(conf).toEqual({ module: 'threshold.ts', workers, threshold: 3 }); // the caller's conf is untouched
    });
  }

  it('the other modules are closed when one fails to start', async () => {
    // If the first module's worker were left running, vitest would not exit: this also guards that.
    await createFails(
      [{ module: 'countdown.ts', workers: 1 }, { module: 'chain.ts', workers: 2, from: 'a', to: 'b', fanout: 1 }, { module: 'create-throws.ts', workers: 1 }],
      /module 2 \(create-throws\.ts\)/,
    );
  });
});

describe('module threads that die', () => {
  it('an uncaught exception in a module thread closes the engine naming the module', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers: 1 }] }, backend, { baseDir: fixtures });
    await engine.register(EVENTER, [jsonEvent(['fail', 'crash'], 1)]); // the crash comes after the round
    await engine.closed;
    expect(engine.failure?.message).toMatch(/module 0 \(failing\.ts\): worker crashed: crashed on purpose/);
    expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
    await expect(engine.register(EVENTER, [jsonEvent(['a'], 1)])).rejects.toThrow(/module engine closed.*crashed on purpose/);
  });

  it('a module thread that exits during a round rejects the pending call and closes the engine', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers: 1 }] }, backend, { baseDir: fixtures });
    const behind = engine.register(EVENTER, [jsonEvent(['ok'], 1)]);
    await expect(engine.register(EVENTER, [jsonEvent(['fail', 'exit'], 1)])).rejects.toThrow(
      /module 0 \(failing\.ts\): worker exited with code 7/,
    );
    await expect(behind).resolves.toHaveLength(1);
    await engine.closed;
    expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
  });

  it('a thread that exits while another module of the round finishes quietly still closes the engine', async () => {
    // The slow module finishes after the dead one and, not being the last to finish in the count,
    // leaves its answer quietly (round-barrier.ts): the dead thread must be counted out.
    const backend = await recordingBackend();
    const modules = [
      { module: 'failing.ts', workers: 1 },
      { module: 'cpu.ts', workers: 1, micros: 20000, subscriptions: [['fail', '*'], ['ok']] },
    ];
    engine = await createEngine({ server_id: 1, modules }, backend, { baseDir: fixtures });
    await engine.register(EVENTER, [jsonEvent(['ok'], 1)]); // both threads have answered once
    await expect(engine.register(EVENTER, [jsonEvent(['fail', 'exit'], 1)])).rejects.toThrow(
      /module 0 \(failing\.ts\): worker exited with code 7/,
    );
    await engine.closed;
    expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
  });

  it('a pooled thread that exits during a round rejects the call and closes the engine', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers: 2 }] }, backend, { baseDir: fixtures });
    await expect(engine.register(EVENTER, [jsonEvent(['fail', 'exit'], 1)])).rejects.toThrow(/module 0 \(failing\.ts\)/);
    await engine.closed;
    expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
  });
});

describe('an invalid event is not a broken backend', () => {
  it('events the engine or the backend refuses come back null, in place; the engine and its modules go on', async () => {
    const log = captureLogger();
    const dir = mkdtempSync(path.join(tmpdir(), 'hat-engine-invalid-'));
    // the SOURCE_TIMESTAMP partition cannot key a `us` outside u32: the backend refuses that one event
    const backend = await createLmdbBackend({
      db_path: path.join(dir, 'events.db'), max_db_size: 64 * 1024 * 1024, flush_period: 0.05, conditions: [],
      latest: { subscriptions: [['*']] },
      ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }, { order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] }],
    });
    try {
      engine = await createEngine({ server_id: 1, modules: [{ module: 'countdown.ts', workers: 1 }] }, backend, { baseDir: fixtures, logger: log });
      const bad = [
        { type: 'a', sourceTimestamp: null, payload: null },
        { type: ['a'], sourceTimestamp: { s: 0.5, us: 0 }, payload: null },
        { type: ['a'], sourceTimestamp: null, payload: { type: 'binary', data: [1] } },
        { type: ['a'], sourceTimestamp: { s: 0, us: -1 }, payload: null },
      ] as unknown as RegisterEvent[];
      const good = jsonEvent(['ok'], 1);
      const results = await engine.register(EVENTER, [bad[0]!, good, bad[1]!, bad[2]!, bad[3]!, good]);
      expect(results.map((e) => e?.type ?? null)).toEqual([null, ['ok'], null, null, null, ['ok']]);
      expect(log.lines.filter((l) => l.message === 'event refused').map((l) => l.fields['index'])).toEqual([0, 2, 3]);
      expect(engine.failure).toBeUndefined();
      // the module still counts down on later sessions: nothing was stopped
      const [again] = await engine.register(EVENTER, [jsonEvent(['countdown'], 2)]);
      expect(again?.type).toEqual(['countdown']);
      expect((await engine.query({ types: [['ok']] })).length).toBe(2);
    } finally {
      await engine?.close();
      engine = null;
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a backend that rejects a register is broken: the engine stops on it', async () => {
    const inner = await recordingBackend();
    const backend = { ...inner, register: async (events: Event[]) => {
      if (events.some((e) => e.type[0] === 'boom')) throw new Error('disk on fire');
      return inner.register(events);
    } };
    engine = await createEngine({ server_id: 1, modules: [] }, backend);
    await expect(engine.register(EVENTER, [jsonEvent(['boom'], 1)])).rejects.toThrow(/disk on fire/);
    await engine.closed;
    expect(engine.failure?.message).toMatch(/disk on fire/);
  });
});
