// Shared pieces of the engine tests: a memory backend that also records every register call, and
// small builders.
import { readFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemoryBackend } from '../../src/backends/memory.ts';
import type { Backend } from '../../src/backends/backend.ts';
import type { Event, EventId, JsonValue, RegisterEvent, Source } from '../../src/common/types.ts';

export const fixtures = path.join(import.meta.dirname, 'fixtures');
export const EVENTER: Source = { type: 'eventer', id: 1 };

export interface RecordingBackend extends Backend {
  calls: Event[][];
}

/** The real memory backend, plus a record of what the engine gave it; `last` overrides getLastEventId. */
export async function recordingBackend(last?: EventId): Promise<RecordingBackend> {
  const inner = await createMemoryBackend();
  const calls: Event[][] = [];
  return {
    calls,
    getLastEventId: async (serverId) => (last && last.server === serverId ? { ...last } : inner.getLastEventId(serverId)),
    register: async (events) => {
      calls.push(events);
      return inner.register(events);
    },
    query: (data) => inner.query(data),
    queryFlushed: (id) => inner.queryFlushed(id),
    flush: () => inner.flush(),
    onFlushed: (cb) => inner.onFlushed(cb),
    close: () => inner.close(),
  };
}

export function jsonEvent(type: string[], data: JsonValue): RegisterEvent {
  return { type, sourceTimestamp: null, payload: { type: 'json', data } };
}

export function payloadValue(event: Event): JsonValue | undefined {
  return event.payload?.type === 'json' ? event.payload.data : undefined;
}

export function tempFile(name: string): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'hat-engine-')), name);
}

export function readLog(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Resolves with the first value `next` gives that `accept` takes, or rejects after `ms`. */
export function waitFor<T>(subscribe: (cb: (value: T) => void) => () => void, accept: (value: T) => boolean, ms = 10000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('timed out waiting'));
    }, ms);
    const unsubscribe = subscribe((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}
