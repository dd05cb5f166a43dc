// What the engine reports through Metrics: sessions and events registered by source type, the
// time a register request takes (queue, modules, store), its queue, and per module the time and
// failures of its rounds and its live threads. Everything is counted per request or per round.
import { LATENCY_BUCKETS, type Counter, type Histogram, type Metrics } from '../common/metrics.ts';
import type { SourceType } from '../common/types.ts';
import type { ModuleHost } from './hosts/module-host.ts';

const SOURCE_TYPES: readonly SourceType[] = ['eventer', 'module', 'engine', 'syncer'];

interface BySource {
  sessions: Counter;
  events: Counter;
  latency: Histogram;
}

/** One module's round figures. */
export interface RoundMetrics {
  duration: Histogram;
  failures: Counter;
}

export class EngineMetrics {
  readonly #metrics: Metrics;
  readonly #bySource: Record<SourceType, BySource>;
  readonly #moduleEvents: Counter;

  constructor(metrics: Metrics, queueLength: () => number) {
    this.#metrics = metrics;
    this.#bySource = Object.fromEntries(SOURCE_TYPES.map((type) => {
      const labels = { source_type: type };
      return [type, {
        sessions: metrics.counter('hat_event_sessions_total', 'Sessions registered (one per register request), by the source type of the request', labels),
        events: metrics.counter('hat_event_events_total', 'Events registered (accepted by the backend), by the source type of their source', labels),
        latency: metrics.histogram('hat_event_register_duration_seconds', 'Time from a register request to its answer: queue, modules and store', LATENCY_BUCKETS, labels),
      }];
    })) as Record<SourceType, BySource>;
    this.#moduleEvents = this.#bySource.module.events;
    metrics.gauge('hat_event_engine_queue_length', 'Register requests waiting for the engine', queueLength);
  }

  /** A session answered: `requestEvents` of the request's own events and `moduleEvents` of module outputs were accepted. */
  registered(source: SourceType, requestEvents: number, moduleEvents: number, seconds: number): void {
    const bySource = this.#bySource[source];
    bySource.sessions.inc();
    bySource.latency.observe(seconds);
    if (requestEvents > 0) bySource.events.inc(requestEvents);
    if (moduleEvents > 0) this.#moduleEvents.inc(moduleEvents);
  }

  /** Per host (in the hosts' order): its round figures; its live threads are read when scraped. */
  modules(hosts: readonly ModuleHost[]): RoundMetrics[] {
    return hosts.map((host) => {
      const labels = { module: host.label };
      this.#metrics.gauge('hat_event_module_threads', 'Worker threads alive for a module (0 for one on the main thread)', () => host.threads, labels);
      return {
        duration: this.#metrics.histogram('hat_event_module_round_duration_seconds', 'Time a module takes for one round of a session', LATENCY_BUCKETS, labels),
        failures: this.#metrics.counter('hat_event_module_failures_total', 'Rounds and session hooks in which a module failed (the engine then stops)', labels),
      };
    });
  }
}

/** `stop` (one module's session hook): a failure counts as the module's; its time is no round's. */
export function countedStop(stop: Promise<void>, round: RoundMetrics): Promise<void> {
  return stop.catch((error: unknown) => {
    round.failures.inc();
    throw error;
  });
}
