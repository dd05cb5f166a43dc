// Stand-alone record codecs (used for storage), and the numbered cases 14 and 15.
import { describe, expect, it } from 'vitest';
import { decodeEvent, decodeRegisterEvent, encodeEvent, encodeRegisterEvent } from '../../src/sbs/event-codec.ts';
import { decodeQueryData, encodeQueryData } from '../../src/sbs/query-codec.ts';
import { defaultQueryData } from '../../src/common/query-data.ts';
import type { Event, EventPayload, RegisterEvent } from '../../src/common/types.ts';
import { hex, sbsVectors, unhex } from '../helpers/vectors.ts';

const payloads: (EventPayload | null)[] = [
  null,
  { type: 'binary', data: new TextEncoder().encode('123') },
  { type: 'json', data: null },
  { type: 'json', data: [{}, null, [], true, false, 1, 2.5, '123'] },
  { type: 'sbs', data: { module: null, type: 'Integer', data: new TextEncoder().encode('123') } },
];

/** Compare through plain values: JSON payloads decode with an accessor and the kept text. */
const plain = (x: unknown): unknown => structuredClone(x);

describe('case 15: Event and RegisterEvent round trips', () => {
  it.each(payloads.map((p) => [JSON.stringify(p?.type ?? null), p] as const))('payload %s', (_name, payload) => {
    const event: Event = {
      id: { server: 1, session: 2, instance: 3 },
      type: ['a', 'b'],
      timestamp: { s: 1700000000, us: 123456 },
      sourceTimestamp: { s: -1, us: 999999 },
      payload,
    };
    const decoded = decodeEvent(encodeEvent(event));
    expect(decoded.payload?.type).toBe(payload?.type);
    expect({ ...plain(decoded) as Event, payload: decoded.payload && { type: decoded.payload.type, data: decoded.payload.data } }).toEqual(event);

    const reg: RegisterEvent = { type: ['x'], sourceTimestamp: null, payload };
    const decodedReg = decodeRegisterEvent(encodeRegisterEvent(reg));
    expect({ ...decodedReg, payload: decodedReg.payload && { type: decodedReg.payload.type, data: decodedReg.payload.data } }).toEqual(reg);
  });

  it('encodeEvent returns an exact-size plain Uint8Array', () => {
    const bytes = encodeEvent({ id: { server: 0, session: 0, instance: 0 }, type: [], timestamp: { s: 0, us: 0 }, sourceTimestamp: null, payload: null });
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
    expect(hex(bytes)).toBe('8080808080808080');
  });

  it('decodes the Event vectors and re-encodes them to the same bytes', () => {
    for (const c of sbsVectors.cases.filter((x) => x.sbs_type === 'Event')) {
      expect(hex(encodeEvent(decodeEvent(unhex(c.hex))))).toBe(c.hex);
    }
  });

  it('keeps JSON text exactly (Python floats, big integers)', () => {
    const text = '[1.0, -0.0, 1e+300, 123456789012345678]';
    const bytes = encodeRegisterEvent({ type: [], sourceTimestamp: null, payload: { type: 'json', data: null, text } as EventPayload });
    const back = decodeRegisterEvent(bytes);
    expect(back.payload).toMatchObject({ type: 'json', text });
    expect(hex(encodeRegisterEvent(back))).toBe(hex(bytes));
  });

  it('refuses trailing bytes after a stand-alone record', () => {
    expect(() => decodeEvent(unhex('808080808080808080'))).toThrowError(/trailing/);
  });
});

describe('case 14: QueryData() defaults', () => {
  it('encodes to the reference bytes and decodes back to the defaults', () => {
    const bytes = encodeQueryData({});
    expect(hex(bytes)).toBe('808080808080808080800080');
    expect(decodeQueryData(bytes)).toEqual(defaultQueryData());
  });

  it('round-trips every field', () => {
    const q = {
      ...defaultQueryData(),
      serverId: 3,
      ids: [{ server: 1, session: 2, instance: 3 }],
      types: [['a', '*'], []],
      tFrom: { s: 1, us: 2 },
      tTo: { s: 3, us: 4 },
      sourceTFrom: { s: -5, us: 6 },
      sourceTTo: { s: 7, us: 8 },
      payload: { type: 'binary' as const, data: new Uint8Array([1, 2]) },
      order: 'ascending' as const,
      orderBy: 'sourceTimestamp' as const,
      uniqueType: true,
      maxResults: 100,
    };
    expect(decodeQueryData(encodeQueryData(q))).toEqual(q);
  });
});
