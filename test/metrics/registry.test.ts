// The server's Metrics over prom-client: what the Prometheus text says for each kind, families of
// label sets under one name, and the registrations it refuses.
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/metrics/registry.ts';

/** The sample lines of `name` (its own and its _bucket/_sum/_count), without comments. */
async function samples(registry: MetricsRegistry, name: string): Promise<string[]> {
  return (await registry.text()).split('\n').filter((line) => line.startsWith(name) && !line.startsWith('#'));
}

describe('MetricsRegistry', () => {
  it('counters: one family per name, a line per label set, the sum of every inc', async () => {
    const registry = new MetricsRegistry();
    const eventer = registry.counter('t_events_total', 'events', { source_type: 'eventer' });
    const module = registry.counter('t_events_total', 'events', { source_type: 'module' });
    eventer.inc(3);
    eventer.inc();
    module.inc(0);
    const text = await registry.text();
    expect(text).toContain('# HELP t_events_total events\n# TYPE t_events_total counter\n');
    expect(await samples(registry, 't_events')).toEqual(['t_events_total{source_type="eventer"} 4', 't_events_total{source_type="module"} 0']);
    eventer.inc(2);
    expect(await samples(registry, 't_events')).toEqual(['t_events_total{source_type="eventer"} 6', 't_events_total{source_type="module"} 0']);
  });

  it('gauges are read at every scrape', async () => {
    const registry = new MetricsRegistry();
    let length = 5;
    registry.gauge('t_queue', 'queue', () => length);
    registry.gauge('t_threads', 'threads', () => 1, { module: 'a' });
    registry.gauge('t_threads', 'threads', () => 0, { module: 'b' });
    expect(await samples(registry, 't_queue')).toEqual(['t_queue 5']);
    length = 2;
    expect(await samples(registry, 't_queue')).toEqual(['t_queue 2']);
    expect(await samples(registry, 't_threads')).toEqual(['t_threads{module="a"} 1', 't_threads{module="b"} 0']);
    expect(await registry.text()).toContain('# TYPE t_threads gauge');
  });

  it('histograms: cumulative buckets with +Inf, sum and count, per label set', async () => {
    const registry = new MetricsRegistry();
    const a = registry.histogram('t_seconds', 'latency', [0.1, 1], { source_type: 'eventer' });
    const b = registry.histogram('t_seconds', 'latency', [0.1, 1], { source_type: 'module' });
    for (const value of [0.05, 0.1, 0.5, 3]) a.observe(value);
    const text = await registry.text();
    expect(text).toContain('# HELP t_seconds latency\n# TYPE t_seconds histogram\n');
    expect(await samples(registry, 't_seconds')).toEqual([
      't_seconds_bucket{source_type="eventer",le="0.1"} 2',
      't_seconds_bucket{source_type="eventer",le="1"} 3',
      't_seconds_bucket{source_type="eventer",le="+Inf"} 4',
      't_seconds_sum{source_type="eventer"} 3.65',
      't_seconds_count{source_type="eventer"} 4',
      't_seconds_bucket{source_type="module",le="0.1"} 0',
      't_seconds_bucket{source_type="module",le="1"} 0',
      't_seconds_bucket{source_type="module",le="+Inf"} 0',
      't_seconds_sum{source_type="module"} 0',
      't_seconds_count{source_type="module"} 0',
    ]);
    b.observe(1);
    expect(await samples(registry, 't_seconds_count{source_type="module"}')).toEqual(['t_seconds_count{source_type="module"} 1']);
  });

  it('refuses a second registration of the same label set, another kind, other labels or other buckets', () => {
    const registry = new MetricsRegistry();
    registry.counter('t_total', 'x', { source_type: 'eventer' });
    expect(() => registry.counter('t_total', 'x', { source_type: 'eventer' })).toThrow('metric t_total{"source_type":"eventer"}: registered twice');
    expect(() => registry.gauge('t_total', 'x', () => 1, { source_type: 'module' })).toThrow('metric t_total: a counter, registered again as a gauge');
    expect(() => registry.counter('t_total', 'x', { module: 'a' })).toThrow('metric t_total: labels (source_type), registered again with (module)');
    registry.histogram('t_seconds', 'x', [1, 2]);
    expect(() => registry.histogram('t_seconds', 'x', [1, 3], { a: 'b' })).toThrow('metric t_seconds: labels (), registered again with (a)');
    registry.histogram('t2_seconds', 'x', [1, 2], { a: 'b' });
    expect(() => registry.histogram('t2_seconds', 'x', [1, 3], { a: 'c' })).toThrow('metric t2_seconds: registered again with other buckets');
  });

  it("the process' own figures come along, read at each scrape", async () => {
    const registry = new MetricsRegistry();
    const value = async (name: string): Promise<number> => Number((await samples(registry, `${name} `))[0]!.slice(name.length + 1));
    const cpu = await value('process_cpu_seconds_total');
    const spin = performance.now() + 50;
    while (performance.now() < spin);
    expect(await value('process_cpu_seconds_total')).toBeGreaterThan(cpu);
    expect(await value('process_cpu_seconds_total')).toBeCloseTo((await value('process_cpu_user_seconds_total')) + (await value('process_cpu_system_seconds_total')), 1);
    expect(await value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(await value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(await value('process_open_fds')).toBeGreaterThan(2);
    expect(Math.abs((await value('process_start_time_seconds')) - (Date.now() / 1000 - process.uptime()))).toBeLessThan(1);
    // a main thread blocked for 200 ms shows in the next scrape's maximum, and not in the one after
    await registry.text();
    await new Promise((resolve) => setTimeout(resolve, 60)); // the monitor's first tick after a reset only starts it
    const block = performance.now() + 200;
    while (performance.now() < block);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await value('nodejs_eventloop_lag_max_seconds')).toBeGreaterThan(0.15);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await value('nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.15);
  });
});
