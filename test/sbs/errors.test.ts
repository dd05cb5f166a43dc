// Malformed SBS input fails with a precise SbsError kind; integers at the int64 edges.
import { describe, expect, it } from 'vitest';
import { SbsReader } from '../../src/sbs/reader.ts';
import { SbsWriter } from '../../src/sbs/writer.ts';
import { SbsError } from '../../src/sbs/errors.ts';
import { decodeEvent } from '../../src/sbs/event-codec.ts';
import { readMsgRegisterReq } from '../../src/sbs/eventer-messages.ts';
import { hex, unhex } from '../helpers/vectors.ts';

function kindOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SbsError) return e.kind;
    throw e;
  }
  return 'no error';
}

describe('SBS decoding errors', () => {
  it('an integer longer than int64 is refused', () => {
    expect(kindOf(() => new SbsReader(unhex('0000000000000000000080')).bigint())).toBe('integer-overflow');
    expect(kindOf(() => new SbsReader(unhex('01000000000000000080')).bigint())).toBe('integer-overflow');
    expect(kindOf(() => new SbsReader(unhex('007f7f7f7f7f7f7f7fff')).integer())).toBe('integer-overflow');
    expect(new SbsReader(unhex('007f7f7f7f7f7f7f7fff')).bigint()).toBe(2n ** 63n - 1n);
    expect(new SbsReader(unhex('7f000000000000000080')).bigint()).toBe(-(2n ** 63n));
  });

  it('accepts non-minimal integers like the reference', () => {
    expect(new SbsReader(unhex('0080')).integer()).toBe(0);
    expect(new SbsReader(unhex('7fff')).integer()).toBe(-1);
  });

  it('a choice index out of range is refused', () => {
    // Event with payload Optional index 2
    expect(kindOf(() => decodeEvent(unhex('80808080808080' + '82')))).toBe('choice-index');
    // payload value with EventPayload index 3
    expect(kindOf(() => decodeEvent(unhex('80808080808080' + '81' + '83')))).toBe('choice-index');
    expect(kindOf(() => decodeEvent(unhex('80808080808080' + '81' + 'ff')))).toBe('choice-index');
  });

  it('truncated input is refused wherever it ends', () => {
    const full = unhex('81828161816281062a4f62800744c08181a57b2261223a20312c202262223a205b747275652c206e756c6c2c20312e352c202278225d7d');
    for (let n = 0; n < full.length; n++) {
      expect(kindOf(() => readMsgRegisterReq(new SbsReader(full.subarray(0, n))))).toBe('truncated');
    }
    expect(readMsgRegisterReq(new SbsReader(full))).toHaveLength(1);
  });

  it('a huge array count is refused before allocating', () => {
    expect(kindOf(() => readMsgRegisterReq(new SbsReader(unhex('0f7f7f7f7f7fff'))))).toBe('truncated');
  });

  it('invalid UTF-8 in a string is refused', () => {
    expect(kindOf(() => new SbsReader(unhex('82c328')).string())).toBe('invalid-utf8');
    expect(kindOf(() => new SbsReader(unhex('a3' + 'c328'.padEnd(70, '61'))).string())).toBe('invalid-utf8');
  });
});

describe('SBS integer encoding', () => {
  const cases: [number | bigint, string][] = [
    [0, '80'], [63, 'bf'], [64, '00c0'], [-64, 'c0'], [-65, '7fbf'], [300, '02ac'], [-8192, '4080'],
    [999_999, '3d04bf'], [1_700_000_000, '062a4f6280'], [2 ** 31 - 1, '077f7f7fff'], [-(2 ** 31), '7800000080'],
    [2 ** 53, '1000000000000080'], [-(2 ** 53) + 1, '7000000000000081'], [2n ** 63n - 1n, '007f7f7f7f7f7f7f7fff'],
  ];
  it.each(cases)('%s', (value, bytes) => {
    const w = new SbsWriter(1);
    if (typeof value === 'bigint') w.bigint(value);
    else if (Number.isSafeInteger(value)) w.integer(value);
    else w.bigint(BigInt(value));
    expect(hex(w.finish())).toBe(bytes);
    expect(BigInt(new SbsReader(unhex(bytes)).integerValue())).toBe(BigInt(value));
  });

  it('refuses non-integers and unsafe numbers', () => {
    expect(() => new SbsWriter().integer(1.5)).toThrowError(SbsError);
    expect(() => new SbsWriter().integer(2 ** 60)).toThrowError(/safe integer/);
  });

  it('round-trips every safe integer magnitude and both signs', () => {
    for (let bits = 0; bits <= 53; bits++) {
      for (const v of [2 ** bits - 1, -(2 ** bits), 2 ** bits, -(2 ** bits) - 1].filter(Number.isSafeInteger)) {
        const w = new SbsWriter(1);
        w.integer(v);
        const r = new SbsReader(w.finish());
        expect(r.integer()).toBe(v);
        expect(r.remaining).toBe(0);
      }
    }
  });

  it('long strings get the right length prefix', () => {
    for (const s of ['x'.repeat(63), 'x'.repeat(64), 'č'.repeat(21), 'č'.repeat(40), '😀'.repeat(100), 'a'.repeat(10000)]) {
      const w = new SbsWriter(2);
      w.string(s);
      const r = new SbsReader(w.finish());
      expect(r.string()).toBe(s);
      expect(r.remaining).toBe(0);
    }
  });
});
