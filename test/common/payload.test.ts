import { describe, expect, it } from 'vitest';
import { jsonEqual, jsonPayloadFromText, payloadsEqual, type EventPayload } from '../../src/common/index.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('payloadsEqual', () => {
  it('compares binary payloads by content', () => {
    expect(payloadsEqual({ type: 'binary', data: bytes('123') }, { type: 'binary', data: bytes('123') })).toBe(true);
    expect(payloadsEqual({ type: 'binary', data: bytes('123') }, { type: 'binary', data: bytes('124') })).toBe(false);
    expect(payloadsEqual({ type: 'binary', data: bytes('12') }, { type: 'binary', data: bytes('123') })).toBe(false);
  });

  it('uses strict JSON deep equality (true is not 1), ignoring key order', () => {
    const j = (data: EventPayload['data']) => ({ type: 'json', data }) as EventPayload;
    expect(payloadsEqual(j(true), j(1))).toBe(false);
    expect(payloadsEqual(j(0), j(false))).toBe(false);
    expect(payloadsEqual(j(null), j(null))).toBe(true);
    expect(payloadsEqual(j({ a: [1, { b: null }], c: 'x' }), j({ c: 'x', a: [1, { b: null }] }))).toBe(true);
    expect(payloadsEqual(j({ a: 1 }), j({ a: 1, b: 2 }))).toBe(false);
    expect(payloadsEqual(j([]), j({}))).toBe(false);
    expect(payloadsEqual(j('1'), j(1))).toBe(false);
  });

  it('compares payloads that keep their JSON text by value, not by text', () => {
    expect(payloadsEqual(jsonPayloadFromText('{"a": 1, "b": [true]}'), { type: 'json', data: { b: [true], a: 1 } })).toBe(true);
    expect(payloadsEqual(jsonPayloadFromText('{"a":1}'), jsonPayloadFromText('{ "a" : 1 }'))).toBe(true);
    expect(payloadsEqual(jsonPayloadFromText('123'), jsonPayloadFromText('123'))).toBe(true);
    expect(payloadsEqual(jsonPayloadFromText('true'), jsonPayloadFromText('1'))).toBe(false);
  });

  it('requires the same payload type', () => {
    expect(payloadsEqual({ type: 'binary', data: bytes('"a"') }, { type: 'json', data: 'a' })).toBe(false);
  });

  it('compares SBS payloads by module, type and bytes', () => {
    const s = (module: string | null, type: string, d: string): EventPayload =>
      ({ type: 'sbs', data: { module, type, data: bytes(d) } });
    expect(payloadsEqual(s(null, 'Integer', '123'), s(null, 'Integer', '123'))).toBe(true);
    expect(payloadsEqual(s(null, 'Integer', '123'), s('M', 'Integer', '123'))).toBe(false);
    expect(payloadsEqual(s(null, 'Integer', '123'), s(null, 'String', '123'))).toBe(false);
    expect(payloadsEqual(s(null, 'Integer', '123'), s(null, 'Integer', '321'))).toBe(false);
  });

  it('treats null as equal only to null', () => {
    expect(payloadsEqual(null, null)).toBe(true);
    expect(payloadsEqual(null, { type: 'json', data: null })).toBe(false);
    expect(payloadsEqual({ type: 'json', data: null }, null)).toBe(false);
  });

  it('jsonEqual is reflexive on nested values', () => {
    const v = [{}, null, [], true, false, 1, 2.5, '123'];
    expect(jsonEqual(v, structuredClone(v))).toBe(true);
  });
});
