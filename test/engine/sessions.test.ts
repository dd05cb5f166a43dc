// Engine cases 58-61, 64, 65 (numbered labels; docs/modules.md, "Sessions and rounds"): ids,
// sessions, timestamps, results and callbacks.
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import { compareTimestamps } from '../../src/common/timestamp.ts';
import type { Event } from '../../src/common/types.ts';
import { EVENTER, fixtures, jsonEvent, payloadValue, recordingBackend } from './helpers.ts';
import { recordingLogger } from '../helpers/logger.ts';

let engine: Engine | null = null;
afterEach(async () => {
  await engine?.close();
  engine = null;
});

/** Lets the engine's loop run its queued STARTED session. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('engine sessions', () => {
  it('58: STARTED is the first registered event and STOPPED follows in the same session on close', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 123, modules: [] }, backend);
    await settle();
    expect(backend.calls).toHaveLength(1);
    const [started] = backend.calls[0] as Event[];
    expect(backend.calls[0]).toHaveLength(1);
    expect(started?.type).toEqual(['event', 'engine']);
    expect(started?.payload).toEqual({ type: 'json', data: 'STARTED' });
    expect(started?.id).toEqual({ server: 123, session: 1, instance: 1 });
    await engine.close();
    expect(backend.calls).toHaveLength(2);
    const stopped = backend.calls[1] as Event[];
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.type).toEqual(['event', 'engine']);
    expect(stopped[0]?.payload).toEqual({ type: 'json', data: 'STOPPED' });
    expect(stopped[0]?.sourceTimestamp).toBeNull();
    expect(stopped[0]?.id).toEqual({ server: 123, session: 1, instance: 2 });
  });

  it('a close right after the start still stores STARTED, then STOPPED (the loop had not run yet)', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 5, modules: [] }, backend);
    await engine.close();
    expect(engine.failure).toBeUndefined();
    expect(backend.calls.map((events) => events.map(payloadValue))).toEqual([['STARTED'], ['STOPPED']]);
    expect(backend.calls.flat().map((e) => e.id)).toEqual([
      { server: 5, session: 1, instance: 1 },
      { server: 5, session: 1, instance: 2 },
    ]);
  });

  it('59: ids continue after the backend last event id', async () => {
    const backend = await recordingBackend({ server: 3, session: 7, instance: 100 });
    engine = await createEngine({ server_id: 3, modules: [] }, backend);
    await settle();
    expect(backend.calls[0]?.[0]?.id).toEqual({ server: 3, session: 8, instance: 101 });
  });

  it('60: one session per register call, one timestamp per session, instances across sessions', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [] }, backend);
    const seen: Event[][] = [];
    engine.onEvents((events) => seen.push(events));
    const first = await engine.register(EVENTER, [jsonEvent(['a'], 1), jsonEvent(['b'], 2)]);
    expect(first.map((e) => e?.id)).toEqual([
      { server: 1, session: 2, instance: 2 },
      { server: 1, session: 2, instance: 3 },
    ]);
    expect(first[0]?.timestamp).toEqual(first[1]?.timestamp);
    expect(seen.at(-1)).toEqual(first);
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = await engine.register(EVENTER, [jsonEvent(['c'], 3)]);
    expect(second[0]?.id).toEqual({ server: 1, session: 3, instance: 4 });
    expect(compareTimestamps(second[0]!.timestamp, first[0]!.timestamp)).toBeGreaterThan(0);
  });

  it('61: register([]) resolves [] at once and consumes no session', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [] }, backend);
    expect(await engine.register(EVENTER, [])).toEqual([]);
    const [event] = await engine.register(EVENTER, [jsonEvent(['a'], 1)]);
    expect(event?.id).toEqual({ server: 1, session: 2, instance: 2 });
    expect(backend.calls.flat().filter((e) => e.type[0] === 'a')).toHaveLength(1);
  });

  it('64: the result has the submitted events only; callbacks and backend get module outputs too', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'countdown.ts', workers: 0 }] }, backend, {
      baseDir: fixtures,
    });
    const seen: Event[][] = [];
    engine.onEvents((events) => seen.push(events));
    const result = await engine.register(EVENTER, [jsonEvent(['x'], 2)]);
    expect(result).toHaveLength(1);
    const session = seen.at(-1) as Event[];
    expect(session.map(payloadValue)).toEqual([2, 1, 0]);
    expect(new Set(session.map((e) => e.id.session))).toEqual(new Set([2]));
    expect(session.every((e) => compareTimestamps(e.timestamp, session[0]!.timestamp) === 0)).toBe(true);
    expect(backend.calls.at(-1)).toEqual(session);
  });

  it('65: a caller that abandons its await does not stop the session or its callbacks', async () => {
    const backend = await recordingBackend();
    engine = await createEngine(
      { server_id: 1, modules: [{ module: 'cpu.ts', workers: 1, micros: 30000, subscriptions: [['slow']] }] },
      backend,
      { baseDir: fixtures },
    );
    const seen = new Promise<Event[]>((resolve) => engine!.onEvents((events) => events[0]?.type[0] === 'slow' && resolve(events)));
    // Abandon the promise (JS cannot cancel it); the engine must finish the session regardless.
    void engine.register(EVENTER, [jsonEvent(['slow'], 1)]);
    const events = await seen;
    expect(events[0]?.type).toEqual(['slow']);
    const after = await engine.register(EVENTER, [jsonEvent(['next'], 1)]);
    expect(after[0]?.id.session).toBe(events[0]!.id.session + 1);
  });

  it('callbacks run before the caller continues (notify precedes the register response)', async () => {
    engine = await createEngine({ server_id: 1, modules: [] }, await recordingBackend());
    const order: string[] = [];
    engine.onEvents(() => order.push('callback'));
    await engine.register(EVENTER, [jsonEvent(['a'], 1)]);
    order.push('caller');
    expect(order.slice(-2)).toEqual(['callback', 'caller']);
  });

  it('a callback that throws is logged and the others still get the session', async () => {
    const lines: string[] = [];
    engine = await createEngine({ server_id: 1, modules: [] }, await recordingBackend(), { logger: recordingLogger(lines) });
    await settle(); // past STARTED
    const seen: string[][] = [];
    engine.onEvents(() => {
      throw new Error('callback broke');
    });
    engine.onEvents((events) => seen.push(events.map((e) => e.type.join('/'))));
    await engine.register(EVENTER, [jsonEvent(['a'], 1)]);
    expect(seen).toEqual([['a']]);
    expect(lines).toEqual(['warning: engine events callback failed: callback broke']);
  });

  it('an unsubscribed callback is not called again', async () => {
    engine = await createEngine({ server_id: 1, modules: [] }, await recordingBackend());
    await settle(); // past STARTED
    let calls = 0;
    const off = engine.onEvents(() => calls++);
    await engine.register(EVENTER, [jsonEvent(['a'], 1)]);
    off();
    await engine.register(EVENTER, [jsonEvent(['a'], 2)]);
    expect(calls).toBe(1);
  });

  it('query passes through to the backend', async () => {
    engine = await createEngine({ server_id: 1, modules: [] }, await recordingBackend());
    await engine.register(EVENTER, [jsonEvent(['q', '1'], 1), jsonEvent(['r'], 2)]);
    const found = await engine.query({ types: [['q', '*']] });
    expect(found.map((e) => e.type)).toEqual([['q', '1']]);
  });

  it('after close, register and query reject and close is idempotent', async () => {
    const e = await createEngine({ server_id: 1, modules: [] }, await recordingBackend());
    await e.close();
    await e.close();
    await expect(e.register(EVENTER, [jsonEvent(['a'], 1)])).rejects.toThrow(/closed/);
    await expect(e.query({})).rejects.toThrow(/closed/);
  });

  it('rejects an invalid engine configuration with the offending key', async () => {
    const backend = await recordingBackend();
    await expect(createEngine({ server_id: -1, modules: [] }, backend)).rejects.toThrow(/server_id/);
    await expect(createEngine({ server_id: 1, modules: [{ module: 'x.ts', workers: 1.5 }] }, backend)).rejects.toThrow(
      /engine\.modules\[0\]\.workers/,
    );
  });
});
