// Payload equality: same type and deep-equal data (docs/api.md, "Data model"). JSON equality is strict
// (`true` is not `1`, unlike Python); bytes compare by content.
import type { EventPayload, JsonValue } from './types.ts';

export function payloadsEqual(a: EventPayload | null, b: EventPayload | null): boolean {
  if (a === null || b === null) return a === b;
  switch (a.type) {
    case 'binary':
      return b.type === 'binary' && bytesEqual(a.data, b.data);
    case 'json':
      if (b.type !== 'json') return false;
      // Identical source text means identical values; skips parsing lazily-decoded payloads.
      if (a.text !== undefined && a.text === b.text) return true;
      return jsonEqual(a.data, b.data);
    case 'sbs':
      return (
        b.type === 'sbs' && a.data.module === b.data.module && a.data.type === b.data.type &&
        bytesEqual(a.data.data, b.data.data)
      );
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Strict deep equality of JSON values; object key order does not matter. No recursion. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  const pairs: [JsonValue, JsonValue][] = [[a, b]];
  while (pairs.length > 0) {
    const [x, y] = pairs.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) pairs.push([x[i] as JsonValue, y[i] as JsonValue]);
      continue;
    }
    if (Array.isArray(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      pairs.push([x[key] as JsonValue, y[key] as JsonValue]);
    }
  }
  return true;
}
