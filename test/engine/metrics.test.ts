// What the engine reports through Metrics (a real MetricsRegistry): a module's failures, its live
// threads as they end, the queue of waiting requests, and the source type of events and sessions.
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { EVENTER, fixtures, jsonEvent, recordingBackend } from './helpers.ts';

let engine: Engine | null = null;
afterEach(async () => {
  await engine?.close();
  engine = null;
});

async function sample(registry: MetricsRegistry, name: string): Promise<number> {
  const line = (await registry.text()).split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no sample ${name}`);
  return Number(line.slice(name.length + 1));
}

describe('engine metrics', () => {
  it('a module that throws: one failure, no round time for it; a pool of two threads shows 2 alive until they end', async () => {
    const registry = new MetricsRegistry();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers: 2 }] }, await recordingBackend(), { baseDir: fixtures, metrics: registry });
    const label = 'module 0 (failing.ts)';
    await engine.register(EVENTER, [jsonEvent(['fail', 'hang'], 1)]);
    expect(await sample(registry, `hat_event_module_threads{module="${label}"}`)).toBe(2);
    expect(await sample(registry, `hat_event_module_round_duration_seconds_count{module="${label}"}`)).toBe(1);
    await expect(engine.register(EVENTER, [jsonEvent(['fail', 'throw'], 1)])).rejects.toThrow('process failed on purpose');
    await engine.closed;
    expect(await sample(registry, `hat_event_module_failures_total{module="${label}"}`)).toBe(1);
    expect(await sample(registry, `hat_event_module_round_duration_seconds_count{module="${label}"}`)).toBe(1);
    expect(await sample(registry, `hat_event_module_threads{module="${label}"}`)).toBe(0);
  });

  it('a failing session hook counts as the module failing', async () => {
    const registry = new MetricsRegistry();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'failing.ts', workers: 0, failIn: 'stop' }] }, await recordingBackend(), { baseDir: fixtures, metrics: registry });
    await expect(engine.register(EVENTER, [jsonEvent(['x'], 1)])).rejects.toThrow('stop hook failed on purpose');
    expect(await sample(registry, 'hat_event_module_failures_total{module="module 0 (failing.ts)"}')).toBe(1);
  });

  it('requests wait in the queue while a session runs; a module registering counts as source type module', async () => {
    const registry = new MetricsRegistry();
    const modules = [{ module: 'cpu.ts', workers: 1, micros: 300000, subscriptions: [['slow']] }];
    engine = await createEngine({ server_id: 1, modules }, await recordingBackend(), { baseDir: fixtures, metrics: registry });
    const slow = engine.register(EVENTER, [jsonEvent(['slow'], 1)]);
    const waiting = [1, 2, 3].map((i) => engine!.register({ type: 'module', id: 0 }, [jsonEvent(['queued'], i), jsonEvent(['queued'], i)]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await sample(registry, 'hat_event_engine_queue_length')).toBe(3);
    await Promise.all([slow, ...waiting]);
    expect(await sample(registry, 'hat_event_engine_queue_length')).toBe(0);
    expect(await sample(registry, 'hat_event_sessions_total{source_type="module"}')).toBe(3);
    expect(await sample(registry, 'hat_event_events_total{source_type="module"}')).toBe(6);
    expect(await sample(registry, 'hat_event_events_total{source_type="eventer"}')).toBe(1);
    expect(await sample(registry, 'hat_event_register_duration_seconds_count{source_type="module"}')).toBe(3);
    // the queued ones waited for the slow session: their latency counts from when they were queued
    expect(await sample(registry, 'hat_event_register_duration_seconds_bucket{source_type="module",le="0.1"}')).toBe(0);
  });
});
