// The shape a registered event must have, checked per event and without walking payload data:
// an event that fails is refused on its own (null in the register result); it never fails the
// session, the engine or the backend.
import type { Timestamp } from './types.ts';

/** What is wrong with `t` as a Timestamp (integers JS holds exactly), or null. */
export function timestampProblem(t: unknown): string | null {
  if (t === null || typeof t !== 'object') return 'not a timestamp';
  const { s, us } = t as Timestamp;
  if (!Number.isSafeInteger(s)) return `s = ${String(s)} is not an integer within ±2^53`;
  if (!Number.isSafeInteger(us)) return `us = ${String(us)} is not an integer within ±2^53`;
  return null;
}

/** What is wrong with `event` as a RegisterEvent (or the register part of an Event), or null. */
export function registerEventProblem(event: unknown): string | null {
  if (event === null || typeof event !== 'object') return 'not an event';
  const { type, sourceTimestamp, payload } = event as Record<string, unknown>;
  if (!Array.isArray(type)) return 'type is not an array of strings';
  for (let i = 0; i < type.length; i++) if (typeof type[i] !== 'string') return 'type is not an array of strings';
  if (sourceTimestamp !== null) {
    const problem = timestampProblem(sourceTimestamp);
    if (problem !== null) return `sourceTimestamp: ${problem}`;
  }
  if (payload === null) return null;
  if (typeof payload !== 'object') return 'payload is not an object';
  const p = payload as { type?: unknown; data?: unknown; text?: unknown };
  switch (p.type) {
    case 'binary':
      return p.data instanceof Uint8Array ? null : 'binary payload data is not bytes';
    case 'json':
      return typeof p.text === 'string' || p.data !== undefined ? null : 'JSON payload has no data';
    case 'sbs': {
      const d = p.data as { module?: unknown; type?: unknown; data?: unknown } | null;
      const ok = d !== null && typeof d === 'object' && d.data instanceof Uint8Array && typeof d.type === 'string' &&
        (d.module === null || typeof d.module === 'string');
      return ok ? null : 'malformed SBS payload';
    }
    default:
      return `unknown payload type ${String(p.type)}`;
  }
}

/** The items of a request that pass a check, and the way back to request order. */
export interface Sifted<T> {
  kept: T[];
  refused: { index: number; reason: string }[];
  /** Results of `kept` placed at their request positions; null where an item was refused. */
  spread<R>(results: readonly R[]): (R | null)[];
}

export function sift<T>(items: readonly T[], problem: (item: T, index: number) => string | null): Sifted<T> {
  const kept: T[] = [];
  const positions: number[] = [];
  const refused: { index: number; reason: string }[] = [];
  for (let i = 0; i < items.length; i++) {
    const reason = problem(items[i]!, i);
    if (reason === null) {
      kept.push(items[i]!);
      positions.push(i);
    } else {
      refused.push({ index: i, reason });
    }
  }
  return {
    kept,
    refused,
    spread<R>(results: readonly R[]): (R | null)[] {
      if (refused.length === 0) return [...results];
      const out = new Array<R | null>(items.length).fill(null);
      for (let i = 0; i < positions.length; i++) out[positions[i]!] = results[i] ?? null;
      return out;
    },
  };
}
