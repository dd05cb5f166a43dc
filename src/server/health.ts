// What GET /healthz says of a running server: healthy while its engine runs (or it is a standby
// member of a monitor group), its backend is open and can write, and no registered event has
// waited longer than `max_flush_delay` for its flush.
import type { Backend } from '../backends/backend.ts';
import { describeError } from '../common/describe-error.ts';
import type { Resource } from '../common/resource.ts';
import type { HealthReport } from '../metrics/http-server.ts';

export interface HealthParts {
  /** null: a standby member of a monitor group, healthy without an engine */
  engine: Resource | null;
  /** what the engine stores into, the session reservation included (flushStatus is optional: a volatile one has nothing to flush) */
  backend: Backend;
  /** seconds */
  maxFlushDelay: number;
}

export function serverHealth({ engine, backend, maxFlushDelay }: HealthParts): HealthReport {
  const reasons: string[] = [];
  if (engine !== null && !engine.isOpen) {
    reasons.push(engine.failure ? `the engine stopped: ${describeError(engine.failure)}` : 'the engine is not running: the server is stopping');
  }
  if (backend.isOpen === false) {
    reasons.push(backend.failure ? `the backend closed: ${describeError(backend.failure)}` : 'the backend is closed');
  }
  const flush = backend.flushStatus?.();
  if (flush !== undefined && !flush.writable) {
    reasons.push(
      `the store cannot write since ${new Date(flush.since ?? Date.now()).toISOString()}: ${flush.reason ?? 'unknown'} ` +
        `(${flush.pendingEvents} accepted events wait in memory, ${flush.pendingBytes} of max_pending_bytes ${flush.maxPendingBytes} bytes)`,
    );
  }
  if (flush !== undefined && flush.oldestSeconds > maxFlushDelay) {
    reasons.push(
      `the backend has not flushed for ${flush.oldestSeconds.toFixed(1)} s: ${flush.pendingEvents} registered events wait ` +
        `for their flush to disk (max_flush_delay ${maxFlushDelay} s)`,
    );
  }
  return {
    healthy: reasons.length === 0,
    body: {
      status: reasons.length === 0 ? 'ok' : 'unhealthy',
      reasons,
      engine: engine === null ? 'standby' : engine.isOpen ? 'running' : 'stopped',
      ...(flush && {
        pending_events: flush.pendingEvents,
        unflushed_seconds: Number(flush.oldestSeconds.toFixed(3)),
        writable: flush.writable,
      }),
    },
  };
}
