// The JSON form of events on the command line: exact payload text, every payload kind, ISO
// timestamps with {s, us} beyond a Date's range, and the input side's clear refusals.
import { describe, expect, it } from 'vitest';
import { jsonPayloadFromText } from '../../src/common/json-payload.ts';
import type { Event } from '../../src/common/types.ts';
import { eventJson, parseEventTypeArg, parseTimestampArg, registerEventFromJson, registerEventFromLine } from '../../src/cli/event-json.ts';

const event = (over: Partial<Event>): Event => ({
  id: { server: 1, session: 2, instance: 3 }, type: ['a', 'b'], timestamp: { s: 0, us: 1 }, sourceTimestamp: null, payload: null, ...over,
});

describe('eventJson', () => {
  it('writes a JSON payload as its exact text, also indented, also when a string of the event looks like the slot', () => {
    const text = '{"v": 1.0, "big": 123456789012345678901234567890}';
    const e = event({ type: ['\u0000payload\u0000'], payload: jsonPayloadFromText(text) });
    expect(eventJson(e)).toBe(
      '{"event_id":{"server":1,"session":2,"instance":3},"event_type":["\\u0000payload\\u0000"],' +
        `"timestamp":"1970-01-01T00:00:00.000001Z","source_timestamp":null,"payload":{"type":"JSON","data":${text}}}`);
    const indented = eventJson(e, 2);
    expect(indented).toContain(`"data": ${text}\n`);
    expect(JSON.parse(indented)).toMatchObject({ event_type: ['\u0000payload\u0000'], payload: { type: 'JSON' } });
  });

  it('binary and SBS payloads as hex; timestamps beyond a Date as {s, us}', () => {
    expect(JSON.parse(eventJson(event({ payload: { type: 'binary', data: Uint8Array.of(0, 171) } }))).payload).toEqual({ type: 'BINARY', data: '00ab' });
    expect(JSON.parse(eventJson(event({ payload: { type: 'sbs', data: { module: null, type: 'T', data: Uint8Array.of(1) } } }))).payload)
      .toEqual({ type: 'SBS', data: { module: null, type: 'T', data: '01' } });
    const far = { s: 2 ** 50, us: 7 };
    expect(JSON.parse(eventJson(event({ timestamp: far, sourceTimestamp: { s: -1, us: 999_999 } })))).toMatchObject({
      timestamp: far, source_timestamp: '1969-12-31T23:59:59.999999Z',
    });
  });
});

describe('the input side', () => {
  it('reads what eventJson writes back as a register event', () => {
    const written = JSON.parse(eventJson(event({ sourceTimestamp: { s: 2 ** 50, us: 1 }, payload: { type: 'binary', data: Uint8Array.of(5) } })));
    expect(registerEventFromJson(written)).toEqual({ type: ['a', 'b'], sourceTimestamp: { s: 2 ** 50, us: 1 }, payload: { type: 'binary', data: Uint8Array.of(5) } });
  });

  it.each([
    [[], 'not a JSON object'],
    [{ event_type: ['a'], extra: 1 }, 'unknown key \'extra\''],
    [{ event_type: 'a/b' }, 'event_type: expected an array of strings'],
    [{ event_type: ['a'], source_timestamp: { s: 1, us: 1e6 } }, 'source_timestamp: expected an ISO 8601 date-time or {"s": integer, "us": 0..999999}'],
    [{ event_type: ['a'], source_timestamp: 'soon' }, 'source_timestamp: not an ISO 8601 date-time or \'now\': "soon"'],
    [{ event_type: ['a'], payload: { type: 'XML', data: '<a/>' } }, 'payload.type: expected "JSON", "BINARY" or "SBS", got "XML"'],
    [{ event_type: ['a'], payload: { type: 'BINARY', data: 'f' } }, 'payload.data: expected hex digits, two per byte'],
    [{ event_type: ['a'], payload: { type: 'SBS', data: { type: 'T', data: '' } } }, 'payload.data: expected {"module": string or null, "type": string, "data": hex}'],
    [{ event_type: ['a'], payload: 5 }, 'payload: expected null or {"type": ..., "data": ...}'],
  ])('refuses %j: %s', (value, message) => {
    expect(() => registerEventFromJson(value)).toThrow(message);
  });

  it('event types and timestamps given as options', () => {
    expect(parseEventTypeArg('a/?/*')).toEqual(['a', '?', '*']);
    expect(parseEventTypeArg('')).toEqual([]);
    expect(parseTimestampArg('2024-05-01T12:00:00.5+02:00', 'x')).toEqual({ s: 1_714_557_600, us: 500_000 });
    const now = parseTimestampArg('now', 'x');
    expect(Math.abs(now.s - Date.now() / 1000)).toBeLessThan(5);
  });
});

describe('registerEventFromLine', () => {
  it('keeps the exact text of a JSON payload, wherever the line puts it and however it spaces it', () => {
    const text = '{"v": 40.0, "s": "a \\" } ] , b", "n": [1.50, {"x": null}], "big": 12345678901234567890}';
    for (const line of [
      `{"event_type": ["a"], "payload": {"type": "JSON", "data": ${text}}}`,
      `{ "payload" : { "data" :${text} , "type":"JSON" } , "event_type":["a"] }`,
      `{"payload": {"type": "JSON", "data": 1}, "event_type": ["a"], "payload": {"type": "JSON", "data": ${text}}}`,
    ]) {
      const event = registerEventFromLine(line);
      expect(event.payload?.type === 'json' && event.payload.text).toBe(text);
    }
    for (const data of ['1.0', '"x"', 'null', 'true', '[]', '-2.5e+3']) {
      const event = registerEventFromLine(`{"event_type": [], "payload": {"data": ${data}, "type": "JSON"}}`);
      expect(event.payload?.type === 'json' && event.payload.text).toBe(data);
    }
    // a scalar right before the closing braces, without spaces (the form JSON.stringify writes)
    for (const data of ['1', '-2.5', 'true', 'null', '"x"']) {
      const event = registerEventFromLine(`{"event_type":["q"],"payload":{"type":"JSON","data":${data}}}`);
      expect(event.payload?.type === 'json' && event.payload.text).toBe(data);
    }
    expect(() => registerEventFromLine('{"event_type": [}')).toThrow(SyntaxError);
  });
});
