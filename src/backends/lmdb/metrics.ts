// What the LMDB backend reports through Metrics: its flushes (duration, age of the last, what
// waits for the next, whether the store can write) and the size of its map and file. Gauges are read when scraped; the flush duration
// is observed once per flush.
import { LATENCY_BUCKETS, type Histogram, type Metrics } from '../../common/metrics.ts';
import type { LmdbBackend } from './backend.ts';

/** Registers the gauges; returns the flush duration histogram the backend observes. */
export function reportLmdbMetrics(metrics: Metrics, backend: LmdbBackend): Histogram {
  metrics.gauge('hat_event_backend_pending_events', 'Registered events not yet flushed to disk', () => backend.flushStatus().pendingEvents);
  metrics.gauge('hat_event_backend_unflushed_age_seconds', 'How long the oldest unflushed event has waited (0 when none)', () => backend.flushStatus().oldestSeconds);
  metrics.gauge('hat_event_backend_last_flush_age_seconds', 'Seconds since the last flush that wrote events (since the open before the first)', () => backend.lastFlushAgeSeconds);
  metrics.gauge('hat_event_backend_pending_bytes', 'Memory the events not yet flushed take (estimated; max_pending_bytes bounds it)', () => backend.flushStatus().pendingBytes);
  metrics.gauge('hat_event_backend_writable', '1 while the store can write, 0 while writes fail (no space, an I/O error) and are retried', () => (backend.flushStatus().writable ? 1 : 0));
  metrics.gauge('hat_event_lmdb_map_size_bytes', 'Size of the LMDB map: address space fixed at open, the most the file can hold', () => backend.store.env.mapSize);
  metrics.gauge('hat_event_lmdb_used_bytes', 'Bytes of the LMDB map in use (pages up to the highest written)', () => backend.store.env.usedBytes());
  return metrics.histogram('hat_event_backend_flush_duration_seconds', 'Time one flush takes to make its events durable', LATENCY_BUCKETS);
}
