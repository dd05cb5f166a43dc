// Event types and query-type matching (docs/api.md, "Data model").
import type { EventType } from './types.ts';

/**
 * Whether `eventType` is matched by `queryType`. `'?'` matches exactly one segment; a trailing
 * `'*'` matches zero or more trailing segments. A `'*'` anywhere else is a literal here (only
 * `Subscription` rejects it), as in Hat.
 */
export function matchesQueryType(eventType: EventType, queryType: EventType): boolean {
  let qLen = queryType.length;
  const variable = qLen > 0 && queryType[qLen - 1] === '*';
  if (variable) qLen -= 1;
  if (eventType.length < qLen) return false;
  if (eventType.length > qLen && !variable) return false;
  for (let i = 0; i < qLen; i++) {
    const q = queryType[i];
    if (q !== '?' && q !== eventType[i]) return false;
  }
  return true;
}

/** A string that identifies an event type exactly (usable as a Map/Set key). */
export function eventTypeKey(eventType: EventType): string {
  return JSON.stringify(eventType);
}

export function eventTypesEqual(a: EventType, b: EventType): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws a clear error unless `value` is an array of strings. */
export function assertEventType(value: unknown, what = 'event type'): asserts value is EventType {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
    throw new TypeError(`invalid ${what}: expected an array of strings, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
