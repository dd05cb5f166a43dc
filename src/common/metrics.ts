// The one interface through which a component reports figures about itself (passed down like the
// Logger; noMetrics() when nobody asked for any). The server's implementation is
// metrics/registry.ts, which serves them at GET /metrics in Prometheus' text format.
//
// Hot paths stay cheap: a counter's inc() is one addition and a gauge is only read when scraped,
// so a component counts per batch or request, never per event, and starts no timers.

export type Labels = Readonly<Record<string, string>>;

export interface Counter {
  inc(by?: number): void;
}

export interface Histogram {
  observe(value: number): void;
}

export interface Metrics {
  /** A count that only grows (e.g. events registered). One name, several label sets: one family. */
  counter(name: string, help: string, labels?: Labels): Counter;
  /** A value read when scraped (a queue's length, a map's size); `read` must not throw. */
  gauge(name: string, help: string, read: () => number, labels?: Labels): void;
  /** A distribution (durations in seconds); `buckets` are the upper bounds. */
  histogram(name: string, help: string, buckets: readonly number[], labels?: Labels): Histogram;
}

/** Upper bounds in seconds for latencies from 100 µs to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

const NO_COUNTER: Counter = { inc: () => {} };
const NO_HISTOGRAM: Histogram = { observe: () => {} };
const NO_METRICS: Metrics = { counter: () => NO_COUNTER, gauge: () => {}, histogram: () => NO_HISTOGRAM };

/** Metrics that go nowhere (the default of every component). */
export function noMetrics(): Metrics {
  return NO_METRICS;
}

/**
 * Metrics for a part that is started again (the engine and eventer server after a
 * `synced_restart_engine` restart): registering a name and label set again continues the same
 * series (counters keep counting, a gauge reads the newest registration) instead of being
 * refused as a duplicate.
 */
export function reusableMetrics(metrics: Metrics): Metrics {
  if (metrics === NO_METRICS) return metrics;
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();
  const gauges = new Map<string, { read: () => number }>();
  const key = (name: string, labels: Labels | undefined): string => `${name}${JSON.stringify(labels ?? {})}`;
  return {
    counter(name, help, labels) {
      const k = key(name, labels);
      let counter = counters.get(k);
      if (counter === undefined) counters.set(k, (counter = metrics.counter(name, help, labels)));
      return counter;
    },
    histogram(name, help, buckets, labels) {
      const k = key(name, labels);
      let histogram = histograms.get(k);
      if (histogram === undefined) histograms.set(k, (histogram = metrics.histogram(name, help, buckets, labels)));
      return histogram;
    },
    gauge(name, help, read, labels) {
      const k = key(name, labels);
      const current = gauges.get(k);
      if (current !== undefined) {
        current.read = read;
        return;
      }
      const slot = { read };
      gauges.set(k, slot);
      metrics.gauge(name, help, () => slot.read(), labels);
    },
  };
}
