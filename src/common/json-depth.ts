// How deeply JSON nests, measured without recursion, so that no input can overflow the stack:
// the edge refuses payloads and query filters nested deeper than a bound (default 256).

export const DEFAULT_MAX_JSON_DEPTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** The nesting depth of JSON text: 0 for a scalar, 1 for `[]` or `{"a": 1}`, 2 for `[[]]`. */
export function jsonTextDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) max = depth;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return max;
}

/**
 * The nesting depth of a JS value as JSON, walked with an explicit stack; the walk stops once it
 * is past `stopAbove` (so a cyclic value ends too) and returns `stopAbove + 1`.
 */
export function jsonValueDepth(value: unknown, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    const inner = depth + 1;
    if (inner > stopAbove) return stopAbove + 1;
    if (inner > max) max = inner;
    const children = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, inner]);
  }
  return max;
}
