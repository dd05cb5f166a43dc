// JSON payloads keep their text, parse lazily, clone safely in plain form, and print in
// Python's json.dumps form when built in JS (docs/protocol.md, "JSON payloads").
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/common/types.ts';
import { jsonPayloadFromText, jsonPayloadText, plainJsonPayload, pythonFloatRepr, pythonJsonText } from '../../src/common/json-payload.ts';

describe('jsonPayloadFromText', () => {
  it('keeps the text and parses on first access', () => {
    const p = jsonPayloadFromText('{"a": 1.0, "big": 123456789012345678901}');
    expect(p.text).toBe('{"a": 1.0, "big": 123456789012345678901}');
    expect(jsonPayloadText(p)).toBe(p.text);
    expect((p.data as { a: number }).a).toBe(1);
  });

  it('does not parse until data is read', () => {
    const p = jsonPayloadFromText('{not json');
    expect(p.text).toBe('{not json');
    expect(() => p.data).toThrowError(SyntaxError);
  });

  it('its plain form survives structured clone with both the text and the value', () => {
    const clone = structuredClone(plainJsonPayload(jsonPayloadFromText('[1.0, "x"]')));
    expect(clone).toEqual({ type: 'json', text: '[1.0, "x"]', data: [1, 'x'] });
    expect(JSON.parse(JSON.stringify(jsonPayloadFromText('[1.0]')))).toEqual({ type: 'json', data: [1] });
  });

  it('assigning data drops the stale text', () => {
    const p = jsonPayloadFromText('1.0');
    p.data = { b: 2 };
    expect(p.text).toBeUndefined();
    expect(jsonPayloadText(p)).toBe('{"b": 2}');
  });
});

describe('pythonJsonText', () => {
  it.each([
    [{ x: 1 }, '{"x": 1}'],
    [[], '[]'],
    [{}, '{}'],
    [[true, false, null, 'a/b'], '[true, false, null, "a/b"]'],
    ['č😀\u007f\u0001', '"\\u010d\\ud83d\\ude00\\u007f\\u0001"'],
    ['"\\\n\r\t\b\f', '"\\"\\\\\\n\\r\\t\\b\\f"'],
    [2.5e-8, '2.5e-08'],
    [0.1, '0.1'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e300, '1e+300'],
    [1e16, '1e+16'],
    [123.456, '123.456'],
    [-0, '-0.0'],
    [9007199254740991, '9007199254740991'],
    [1.5e15, '1500000000000000'],
    [1234567890123456.7, '1234567890123456.8'],
  ])('%j -> %s', (value, text) => {
    expect(pythonJsonText(value)).toBe(text);
  });

  it('writes shallow and deep values alike (recursion up to 32 levels, an explicit stack beyond)', () => {
    const nest = (depth: number): JsonValue => {
      let v: JsonValue = { a: [1, 'x', null], b: undefined as unknown as JsonValue };
      for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v, i] : { k: v, n: true };
      return v;
    };
    const expected = (depth: number): string => {
      let t = '{"a": [1, "x", null]}';
      for (let i = 0; i < depth; i++) t = i % 2 === 0 ? `[${t}, ${i}]` : `{"k": ${t}, "n": true}`;
      return t;
    };
    for (const depth of [0, 1, 30, 31, 32, 33, 100, 100_000]) expect(pythonJsonText(nest(depth))).toBe(expected(depth));
    const inherited = Object.create({ hidden: 1 }) as Record<string, JsonValue>;
    inherited.own = 2;
    expect(pythonJsonText(inherited)).toBe('{"own": 2}');
  });

  it('refuses a cyclic value and a value JSON cannot hold', () => {
    const cyclic: Record<string, JsonValue> = { x: 1 };
    cyclic.self = cyclic;
    expect(() => pythonJsonText(cyclic)).toThrowError(/cyclic value/);
    expect(() => pythonJsonText([1, undefined as unknown as JsonValue])).toThrowError(/not a JSON value/);
    expect(() => pythonJsonText({ f: (() => 1) as unknown as JsonValue })).toThrowError(/not a JSON value/);
  });

  it('refuses NaN and Infinity', () => {
    expect(() => pythonJsonText(NaN)).toThrowError(RangeError);
    expect(() => pythonJsonText([Infinity])).toThrowError(RangeError);
  });

  it('float repr matches Python for fixed and exponent forms', () => {
    expect(pythonFloatRepr(2)).toBe('2.0');
    expect(pythonFloatRepr(1e15)).toBe('1000000000000000.0');
    expect(pythonFloatRepr(-1.5e-7)).toBe('-1.5e-07');
    expect(pythonFloatRepr(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
  });
});
