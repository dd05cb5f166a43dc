import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareTimestamps, now, roundHalfEven, timestampAdd, timestampFromBytes, timestampFromDate,
  timestampFromFloat, timestampToBytes, timestampToDate, timestampToFloat, timestampToIsoString,
  type Timestamp,
} from '../../src/common/index.ts';

const ts = (s: number, us: number): Timestamp => ({ s, us });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const total = (t: Timestamp) => BigInt(t.s) * 1_000_000n + BigInt(t.us);

describe('compareTimestamps', () => {
  it('case 9: ordering, >= and comparison with null throws', () => {
    const ordered = [ts(-1, 999999), ts(0, 0), ts(0, 1), ts(1, 0)];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareTimestamps(ordered[i]!, ordered[i + 1]!)).toBeLessThan(0);
      expect(compareTimestamps(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(compareTimestamps(ts(1, 1), ts(1, 1))).toBeGreaterThanOrEqual(0);
    expect(() => compareTimestamps(ts(0, 0), null as unknown as Timestamp)).toThrow(TypeError);
    expect(() => compareTimestamps(null as unknown as Timestamp, ts(0, 0))).toThrow(TypeError);
  });

  it('compares by total microseconds, so (0, 1e6) equals (1, 0)', () => {
    expect(compareTimestamps(ts(0, 1_000_000), ts(1, 0))).toBe(0);
    expect(compareTimestamps(ts(0, 1_000_001), ts(1, 0))).toBeGreaterThan(0);
    expect(compareTimestamps(ts(2 ** 62, 1_000_000), ts(2 ** 62, 999_999))).toBeGreaterThan(0);
  });
});

describe('timestampAdd', () => {
  it('case 10: negative and mixed additions normalise', () => {
    expect(timestampAdd(ts(0, 0), -0.001)).toEqual(ts(-1, 999000));
    expect(timestampAdd(ts(0, 0), -1.001)).toEqual(ts(-2, 999000));
    expect(timestampAdd(ts(-2, 999000), 1.001)).toEqual(ts(0, 0));
  });

  it('examples', () => {
    expect(timestampAdd(ts(0, 0), 0.001)).toEqual(ts(0, 1000));
    expect(timestampAdd(ts(5, 999999), 0.000001)).toEqual(ts(6, 0));
    expect(timestampAdd(ts(0, 0), 1.001)).toEqual(ts(1, 1000));
  });

  it('rounds half to even like Python round()', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, 3]);
    expect(timestampAdd(ts(0, 0), 0.0000005)).toEqual(ts(0, 0)); // 0.5 us → 0 (even)
    expect(timestampAdd(ts(0, 0), 0.0000025)).toEqual(ts(0, 2)); // 2.5 us → 2 (even)
  });

  it('property: adding k microseconds moves the total by exactly k and stays normalised', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: -1e12, max: 1e12 }),
        (s, us, k) => {
          const r = timestampAdd(ts(s, us), k / 1e6);
          return r.us >= 0 && r.us < 1e6 && Number.isInteger(r.us) && total(r) === total(ts(s, us)) + BigInt(k);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: add(x) then add(-x) returns the original', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: -1e12, max: 1e12 }),
        (s, us, k) => {
          const back = timestampAdd(timestampAdd(ts(s, us), k / 1e6), -k / 1e6);
          return back.s === s && back.us === us;
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('timestamp bytes', () => {
  it('case 11: to_bytes((12321, 99999)) and back', () => {
    const b = timestampToBytes(ts(12321, 99999));
    expect(hex(b)).toBe('80000000000030210001869f');
    expect(timestampFromBytes(b)).toEqual(ts(12321, 99999));
  });

  it('vectors (bytes and floats as Hat computes them)', () => {
    expect(hex(timestampToBytes(ts(0, 0)))).toBe('800000000000000000000000');
    expect(hex(timestampToBytes(ts(2145916800, 99999)))).toBe('800000007fe817800001869f');
    expect(hex(timestampToBytes(ts(-1, 5)))).toBe('7fffffffffffffff00000005');
    expect(timestampFromBytes(timestampToBytes(ts(-1, 5)))).toEqual(ts(-1, 5));
  });

  it('handles the LMDB sentinels exactly (BigInt-safe)', () => {
    expect(hex(timestampToBytes(ts(-(2 ** 63), 0)))).toBe('000000000000000000000000');
    expect(timestampFromBytes(timestampToBytes(ts(-(2 ** 63), 0)))).toEqual(ts(-(2 ** 63), 0));
    expect(() => timestampToBytes(ts(2 ** 63, 0))).toThrow(RangeError);
    expect(() => timestampToBytes(ts(0.5, 0))).toThrow(RangeError);
  });

  it('writes into a target buffer at an offset and reads from an offset', () => {
    const buf = new Uint8Array(20);
    timestampToBytes(ts(7, 8), buf, 5);
    expect(timestampFromBytes(buf, 5)).toEqual(ts(7, 8));
    expect(buf[0]).toBe(0);
  });

  it('property: byte order equals timestamp order, and bytes round-trip', () => {
    const arb = fc.record({ s: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), us: fc.integer({ min: 0, max: 999_999 }) });
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        const ba = timestampToBytes(a);
        const bb = timestampToBytes(b);
        const byteOrder = Math.sign(Buffer.compare(ba, bb));
        return byteOrder === Math.sign(compareTimestamps(a, b)) &&
          compareTimestamps(timestampFromBytes(ba), a) === 0 && timestampFromBytes(ba).s === a.s;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('timestamp floats', () => {
  it('case 12: from_float rounding vectors', () => {
    expect(timestampFromFloat(409968 + 9999996e-7)).toEqual(ts(409969, 0));
    expect(timestampFromFloat(-409968 - 6e-7)).toEqual(ts(-409969, 999999));
  });

  it('from_float vectors', () => {
    expect(timestampFromFloat(409968.9999996)).toEqual(ts(409969, 0));
    expect(timestampFromFloat(-409968.0000004)).toEqual(ts(-409968, 0));
    expect(timestampFromFloat(-409968.0000006)).toEqual(ts(-409969, 999999));
    expect(timestampFromFloat(-409968.9999994)).toEqual(ts(-409969, 1));
    expect(timestampFromFloat(-1.0)).toEqual(ts(-1, 0));
    expect(timestampFromFloat(1000.01)).toEqual(ts(1000, 10000));
    expect(timestampToFloat(ts(1000, 10000))).toBeCloseTo(1000.01, 9);
    expect(() => timestampFromFloat(Number.NaN)).toThrow(RangeError);
  });

  it('property: from_float(to_float(t)) = t for |s| < 2^30', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.integer({ min: 0, max: 999_999 }), (s, us) => {
        expect(timestampFromFloat(timestampToFloat(ts(s, us)))).toEqual(ts(s, us));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('timestamp dates', () => {
  it('case 13: to_datetime((0,123)) and back, naive or UTC', () => {
    expect(timestampToIsoString(ts(0, 123))).toBe('1970-01-01T00:00:00.000123Z');
    expect(timestampFromDate('1970-01-01T00:00:00.000123Z')).toEqual(ts(0, 123));
    expect(timestampFromDate('1970-01-01T00:00:00.000123')).toEqual(ts(0, 123));
    // a Date holds milliseconds only
    expect(timestampToDate(ts(0, 123)).toISOString()).toBe('1970-01-01T00:00:00.000Z');
  });

  it('vectors at the ends of the Python range', () => {
    expect(timestampToIsoString(ts(-2208988800, 999999))).toBe('1900-01-01T00:00:00.999999Z');
    expect(timestampFromDate('1900-01-01T00:00:00.999999Z')).toEqual(ts(-2208988800, 999999));
    expect(timestampToIsoString(ts(4133980799, 1))).toBe('2100-12-31T23:59:59.000001Z');
    expect(timestampFromDate('2100-12-31T23:59:59.000001Z')).toEqual(ts(4133980799, 1));
  });

  it('[Q] fixed: whole negative seconds floor correctly', () => {
    expect(timestampFromDate('1969-12-31T23:59:59Z')).toEqual(ts(-1, 0));
    expect(timestampFromDate(new Date('1969-12-31T23:59:59Z'))).toEqual(ts(-1, 0));
    expect(timestampFromDate(new Date('1969-12-31T23:59:59.500Z'))).toEqual(ts(-1, 500000));
  });

  it('honours zone offsets and rejects malformed text', () => {
    expect(timestampFromDate('1970-01-01T01:00:00.5+01:00')).toEqual(ts(0, 500000));
    expect(timestampFromDate('1970-01-01T00:00:00-0130')).toEqual(ts(5400, 0));
    expect(() => timestampFromDate('yesterday')).toThrow(RangeError);
    expect(() => timestampFromDate('2023-02-30T00:00:00Z')).toThrow(RangeError);
    expect(() => timestampFromDate(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('property: ISO text round-trips exactly over years 1..9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800, max: 253402300799 }), fc.integer({ min: 0, max: 999_999 }), (s, us) => {
        expect(timestampFromDate(timestampToIsoString(ts(s, us)))).toEqual(ts(s, us));
      }),
      { numRuns: 2000 },
    );
  });

  it('property: Date round-trip keeps everything but the sub-millisecond part', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800, max: 253402300799 }), fc.integer({ min: 0, max: 999_999 }), (s, us) => {
        expect(timestampFromDate(timestampToDate(ts(s, us)))).toEqual(ts(s, us - (us % 1000)));
      }),
      { numRuns: 2000 },
    );
  });

  it('now() is the current time and does not go backwards between calls', () => {
    const before = Date.now();
    const a = now();
    const b = now();
    const after = Date.now();
    expect(compareTimestamps(a, b)).toBeLessThanOrEqual(0);
    // Within the re-anchoring tolerance (2 ms) of the wall clock.
    expect(timestampToFloat(a) * 1000).toBeGreaterThanOrEqual(before - 3);
    expect(timestampToFloat(b) * 1000).toBeLessThanOrEqual(after + 3);
    expect(a.us).toBeGreaterThanOrEqual(0);
    expect(a.us).toBeLessThan(1e6);
  });

  it('now() has microsecond resolution and never goes backwards', () => {
    const seen: Timestamp[] = [];
    const until = performance.now() + 20;
    while (performance.now() < until) seen.push(now());
    for (let i = 1; i < seen.length; i++) expect(compareTimestamps(seen[i - 1]!, seen[i]!)).toBeLessThanOrEqual(0);
    // Over 20 ms of calls, many distinct sub-millisecond values appear (a ms clock gives only 0).
    expect(new Set(seen.map((t) => t.us % 1000)).size).toBeGreaterThan(10);
  });
});
