// JSON payloads that remember the exact text they arrived as (docs/protocol.md, "JSON payloads"), and the
// Python-compatible text form (`json.dumps` defaults) for payloads built in JS.
import type { JsonPayload, JsonValue } from './types.ts';

/**
 * A JSON payload that keeps the text it arrived as and parses `data` on first access. A class with
 * accessors on its prototype: one small object per payload (closures or defined own accessors
 * made decoding several times slower and dominated GC). `data` and `text` are therefore not own
 * properties: spreading or structured-cloning the payload object would drop them, so code that
 * copies payloads goes through `plainPayload` (see the engine's `postable`). `toJSON` gives the
 * plain form. Assigning `data` replaces the value and drops the text, which no longer describes it.
 */
class TextJsonPayload implements JsonPayload {
  readonly type = 'json' as const;
  #text: string | undefined;
  #value: JsonValue = null;
  #parsed = false;

  constructor(text: string) {
    this.#text = text;
  }

  get data(): JsonValue {
    if (!this.#parsed) {
      this.#value = JSON.parse(this.#text as string) as JsonValue;
      this.#parsed = true;
    }
    return this.#value;
  }

  set data(value: JsonValue) {
    this.#value = value;
    this.#parsed = true;
    this.#text = undefined;
  }

  get text(): string | undefined {
    return this.#text;
  }

  toJSON(): { type: 'json'; data: JsonValue } {
    return { type: 'json', data: this.data };
  }
}

export function jsonPayloadFromText(text: string): JsonPayload {
  return new TextJsonPayload(text);
}

/** A JSON payload as a plain object (own `data`, and `text` when known): safe to clone or spread. */
export function plainJsonPayload(p: JsonPayload): JsonPayload {
  if (!(p instanceof TextJsonPayload)) return p;
  return p.text === undefined ? { type: 'json', data: p.data } : { type: 'json', data: p.data, text: p.text };
}

/** The text to send or store: the original text if known, else the reference text form. */
export function jsonPayloadText(p: JsonPayload): string {
  return p.text ?? pythonJsonText(p.data);
}

/**
 * `json.dumps(value)` with Python's defaults: `", "` and `": "` separators, non-ASCII as
 * `\uXXXX` (surrogate pairs for astral characters), float repr, NaN/Infinity refused.
 * JS numbers that are integers within 2^53 print as integers, other numbers as Python floats.
 * Usual values (nested less than FAST_DEPTH deep) are written by plain recursion, which makes
 * no work list; deeper ones, and cyclic ones, go to the version with an explicit stack, which no
 * nesting depth can overflow and which refuses a cycle like JSON.stringify does.
 */
export function pythonJsonText(value: JsonValue): string {
  return shallowJsonText(value, 0) ?? deepJsonText(value);
}

const FAST_DEPTH = 32;

/** null: nested too deep for recursion (or cyclic): the caller takes the stack version. */
function shallowJsonText(value: JsonValue, depth: number): string | null {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return pythonNumberText(value);
    case 'string':
      return pythonStringText(value);
    case 'object': {
      if (depth >= FAST_DEPTH) return null;
      if (Array.isArray(value)) {
        let text = '[';
        for (let i = 0; i < value.length; i++) {
          const item = shallowJsonText(value[i] as JsonValue, depth + 1);
          if (item === null) return null;
          text += i === 0 ? item : `, ${item}`;
        }
        return `${text}]`;
      }
      let text = '{';
      let first = true;
      for (const key in value) {
        if (!Object.hasOwn(value, key) || value[key] === undefined) continue;
        const item = shallowJsonText(value[key] as JsonValue, depth + 1);
        if (item === null) return null;
        text += `${first ? '' : ', '}${pythonStringText(key)}: ${item}`;
        first = false;
      }
      return `${text}}`;
    }
    default:
      throw new TypeError(`not a JSON value: ${typeof value}`);
  }
}

function deepJsonText(value: JsonValue): string {
  const out: string[] = [];
  /** Pending work, last first: a value to write, or literal text (separators, closing brackets). */
  const todo: (JsonValue | Literal)[] = [value];
  const open = new Set<object>();
  while (todo.length > 0) {
    const item = todo.pop()!;
    if (item instanceof Literal) {
      out.push(item.text);
      if (item.closes !== null) open.delete(item.closes);
      continue;
    }
    if (item === null) out.push('null');
    else if (item === true) out.push('true');
    else if (item === false) out.push('false');
    else if (typeof item === 'number') out.push(pythonNumberText(item));
    else if (typeof item === 'string') out.push(pythonStringText(item));
    else if (typeof item === 'object') {
      if (open.has(item)) throw new TypeError('cyclic value: not JSON');
      open.add(item);
      if (Array.isArray(item)) {
        out.push('[');
        todo.push(new Literal(']', item));
        for (let i = item.length - 1; i >= 0; i--) {
          todo.push(item[i] as JsonValue);
          if (i > 0) todo.push(COMMA);
        }
      } else {
        out.push('{');
        todo.push(new Literal('}', item));
        const keys = Object.keys(item).filter((key) => item[key] !== undefined);
        for (let i = keys.length - 1; i >= 0; i--) {
          todo.push(item[keys[i]!] as JsonValue);
          todo.push(new Literal(`${i > 0 ? ', ' : ''}${pythonStringText(keys[i]!)}: `, null));
        }
      }
    } else {
      throw new TypeError(`not a JSON value: ${typeof item}`);
    }
  }
  return out.join('');
}

class Literal {
  constructor(
    readonly text: string,
    /** the container this text closes */
    readonly closes: object | null,
  ) {}
}

const COMMA = new Literal(', ', null);

export function pythonNumberText(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`JSON cannot represent ${n} (allow_nan=False)`);
  if (Object.is(n, -0)) return '-0.0';
  if (Number.isSafeInteger(n)) return String(n);
  return pythonFloatRepr(n);
}

/** Python `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pythonFloatRepr(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`JSON cannot represent ${n} (allow_nan=False)`);
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exp < 0 ? '-' : '+';
    return `${sign}${frac}e${expSign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x08: '\\b', 0x0c: '\\f',
};

/** A JSON string literal with Python's ensure_ascii escaping (everything outside ' '..'~'). */
export function pythonStringText(s: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(runStart, i);
    out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    runStart = i + 1;
  }
  return out + s.slice(runStart) + '"';
}
