// The server's Metrics (common/metrics.ts) over prom-client: every name is one metric in
// prom-client's registry (a family); each registration adds one label set to it. Values live in
// plain fields that the registry reads when scraped (the collect hook), so counting costs an
// addition and a histogram observation a short bucket scan (prom-client's own Histogram costs
// about a microsecond per observation here, too much for one per register request). The
// process' own figures (CPU, memory, event loop delay) are process.ts's.
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { registerProcessMetrics } from './process.ts';
import type { Counter as CounterHandle, Histogram as HistogramHandle, Labels, Metrics } from '../common/metrics.ts';

interface CountChild {
  labels: Labels;
  value: number;
}

interface GaugeChild {
  labels: Labels;
  read: () => number;
}

type Family =
  | { kind: 'counter'; labelNames: string[]; children: CountChild[] }
  | { kind: 'gauge'; labelNames: string[]; children: GaugeChild[] }
  | { kind: 'histogram'; labelNames: string[]; family: HistogramFamily };

export class MetricsRegistry implements Metrics {
  readonly registry = new Registry();
  readonly #families = new Map<string, Family>();

  constructor() {
    registerProcessMetrics(this.registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every figure in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  counter(name: string, help: string, labels: Labels = {}): CounterHandle {
    const child: CountChild = { labels, value: 0 };
    const family = this.#family(name, 'counter', labels, () => {
      const children: CountChild[] = [];
      new Counter({
        name, help, labelNames: Object.keys(labels), registers: [this.registry],
        collect() {
          this.reset();
          for (const c of children) this.inc(c.labels, c.value);
        },
      });
      return { kind: 'counter', labelNames: Object.keys(labels), children };
    });
    addChild(name, family.children, child);
    return { inc: (by = 1) => void (child.value += by) };
  }

  gauge(name: string, help: string, read: () => number, labels: Labels = {}): void {
    const family = this.#family(name, 'gauge', labels, () => {
      const children: GaugeChild[] = [];
      new Gauge({
        name, help, labelNames: Object.keys(labels), registers: [this.registry],
        collect() {
          for (const c of children) this.set(c.labels, c.read());
        },
      });
      return { kind: 'gauge', labelNames: Object.keys(labels), children };
    });
    addChild(name, family.children, { labels, read });
  }

  histogram(name: string, help: string, buckets: readonly number[], labels: Labels = {}): HistogramHandle {
    const { family } = this.#family(name, 'histogram', labels, () => {
      const family = new HistogramFamily(name, help, buckets);
      this.registry.registerMetric(family as unknown as Metric);
      return { kind: 'histogram', labelNames: Object.keys(labels), family };
    });
    if (family.bounds.join() !== buckets.join()) throw new Error(`metric ${name}: registered again with other buckets`);
    const child = new HistogramChild(labels, family.bounds);
    addChild(name, family.children, child);
    return child;
  }

  #family<K extends Family['kind']>(name: string, kind: K, labels: Labels, create: () => Extract<Family, { kind: K }>): Extract<Family, { kind: K }> {
    const existing = this.#families.get(name);
    if (existing === undefined) {
      const family = create();
      this.#families.set(name, family);
      return family;
    }
    if (existing.kind !== kind) throw new Error(`metric ${name}: a ${existing.kind}, registered again as a ${kind}`);
    if (existing.labelNames.join() !== Object.keys(labels).join()) {
      throw new Error(`metric ${name}: labels (${existing.labelNames.join(', ')}), registered again with (${Object.keys(labels).join(', ')})`);
    }
    return existing as Extract<Family, { kind: K }>;
  }
}

function addChild<T extends { labels: Labels }>(name: string, children: T[], child: T): void {
  const key = labelKey(child.labels);
  if (children.some((c) => labelKey(c.labels) === key)) throw new Error(`metric ${name}${key}: registered twice`);
  children.push(child);
}

const labelKey = (labels: Labels): string => JSON.stringify(labels);

class HistogramChild {
  readonly labels: Labels;
  /** per bucket, not cumulative; the last one is +Inf */
  readonly counts: Float64Array;
  sum = 0;
  readonly #bounds: readonly number[];

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
  }
}

/** A histogram as prom-client's registry reads a metric: name, help, type and get(). */
class HistogramFamily {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly children: HistogramChild[] = [];
  readonly name: string;
  readonly help: string;
  readonly bounds: readonly number[];

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = [...bounds];
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string | number>; value: number }[] }> {
    const values = [];
    for (const child of this.children) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += child.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { ...child.labels }, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...child.labels }, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
