import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesQueryType, Subscription, type EventType } from '../../src/common/index.ts';

const sub = (types: EventType[]) => new Subscription(types);
/** Query types as a canonical, order-free set for comparison. */
const typeSet = (s: Subscription) => s.getQueryTypes().map((t) => JSON.stringify(t)).sort();
const asSet = (types: EventType[]) => types.map((t) => JSON.stringify(t)).sort();

describe('Subscription', () => {
  it('case 2: empty subscription matches nothing; [()] matches only ()', () => {
    const empty = sub([]);
    for (const t of [[], ['a'], ['a', 'b']]) expect(empty.matches(t)).toBe(false);
    const root = sub([[]]);
    expect(root.matches([])).toBe(true);
    expect(root.matches(['a'])).toBe(false);
    expect(root.matches(['a', 'b'])).toBe(false);
  });

  it("case 3: [('a','?'),('a',)]", () => {
    const s = sub([['a', '?'], ['a']]);
    for (const t of [['a'], ['a', 'b'], ['a', '']]) expect(s.matches(t), JSON.stringify(t)).toBe(true);
    for (const t of [[], ['a', 'b', 'c'], ['b'], ['']]) expect(s.matches(t), JSON.stringify(t)).toBe(false);
  });

  it("case 4: [('*',)] matches everything including ()", () => {
    const s = sub([['*']]);
    for (const t of [[], ['a'], ['a', 'b']]) expect(s.matches(t)).toBe(true);
  });

  it('case 5: getQueryTypes sanitises', () => {
    expect(typeSet(sub([['a'], ['b', '*'], [], ['*']]))).toEqual(asSet([['*']]));
    expect(typeSet(sub([['a', '*'], ['b'], ['c', '?'], ['c', '*']]))).toEqual(asSet([['a', '*'], ['b'], ['c', '*']]));
    expect(typeSet(sub([['a', '*'], ['a']]))).toEqual(asSet([['a', '*']]));
    expect(typeSet(sub([[''], ['a']]))).toEqual(asSet([[''], ['a']]));
    expect(typeSet(sub([['?'], ['a']]))).toEqual(asSet([['?'], ['a']]));
  });

  it("case 6: a '*' that is not last throws", () => {
    expect(() => sub([['*', 'a']])).toThrow(/invalid query event type/);
    // validated up front, even after a '*' that would cover it
    expect(() => sub([['*'], ['*', 'a']])).toThrow(/invalid query event type/);
  });

  it('rejects query types that are not arrays of strings', () => {
    expect(() => sub(['a' as unknown as EventType])).toThrow(TypeError);
    expect(() => sub([[1] as unknown as EventType])).toThrow(TypeError);
  });

  it('case 7: union', () => {
    expect(typeSet(sub([['a']]).union(sub([['b']]), sub([['*']])))).toEqual(asSet([['*']]));
    expect(typeSet(sub([['a', 'b']]).union(sub([['a', 'c']])))).toEqual(asSet([['a', 'b'], ['a', 'c']]));
    expect(sub([]).union().getQueryTypes()).toEqual([]);
    const copy = sub([['x']]).union();
    expect(copy.matches(['x'])).toBe(true);
  });

  it('case 8: isDisjoint (correct semantics)', () => {
    const cases: [EventType[], EventType[], boolean][] = [
      [[['a']], [['?']], false],
      [[['?']], [['?']], false],
      [[['?', 'a']], [['?', 'b']], true],
      [[['a', 'b']], [['*']], false],
      [[['a']], [['a', '*']], false],
      [[['a', 'b', '*']], [['a', 'b']], false],
      [[['a', '', '?']], [['a', '', 'b']], false],
      [[], [], true],
      [[['a']], [['b']], true],
      [[['*']], [[]], false],
      [[['a', '']], [['a', 'b']], true], // '' is an ordinary segment, not a wildcard
    ];
    for (const [a, b, expected] of cases) {
      expect(sub(a).isDisjoint(sub(b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(expected);
      expect(sub(b).isDisjoint(sub(a)), `${JSON.stringify(b)} vs ${JSON.stringify(a)}`).toBe(expected);
    }
  });

  it('intersection examples', () => {
    expect(typeSet(sub([['?', 'b']]).intersection(sub([['a', 'b']])))).toEqual(asSet([['a', 'b']]));
    expect(typeSet(sub([['a'], ['b']]).intersection(sub([['b'], ['c']])))).toEqual(asSet([['b']]));
    expect(typeSet(sub([['*']]).intersection(sub([['a'], ['b']])))).toEqual(asSet([['a'], ['b']]));
    expect(sub([['a']]).intersection(sub([['b']])).getQueryTypes()).toEqual([]);
    expect(typeSet(sub([['a', '*']]).intersection())).toEqual(asSet([['a', '*']]));
  });
});

// Property tests: every operation agrees with brute-force matching over a bounded enumeration.
const QUERY_SEGMENTS = ['a', 'b', '', '?'];
const EVENT_SEGMENTS = ['a', 'b', '', 'c']; // 'c' appears in no query: only '?' and '*' reach it
const MAX_LEN = 3;

const queryType = fc
  .tuple(fc.array(fc.constantFrom(...QUERY_SEGMENTS), { maxLength: MAX_LEN }), fc.boolean())
  .map(([segments, star]) => (star ? [...segments, '*'] : segments));
const queryTypes = fc.array(queryType, { maxLength: 4 });

/** All event types up to MAX_LEN + 1 segments: a common match, if any, is never longer. */
const allEventTypes: EventType[] = (() => {
  const out: EventType[] = [[]];
  let layer: EventType[] = [[]];
  for (let len = 1; len <= MAX_LEN + 1; len++) {
    layer = layer.flatMap((t) => EVENT_SEGMENTS.map((s) => [...t, s]));
    out.push(...layer);
  }
  return out;
})();

const bruteMatches = (types: EventType[], et: EventType) => types.some((q) => matchesQueryType(et, q));

describe('Subscription properties', () => {
  it('matches agrees with matchesQueryType over the given types and over getQueryTypes()', () => {
    fc.assert(
      fc.property(queryTypes, (types) => {
        const s = sub(types);
        const sanitised = s.getQueryTypes();
        for (const et of allEventTypes) {
          const expected = bruteMatches(types, et);
          if (s.matches(et) !== expected || bruteMatches(sanitised, et) !== expected) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('union matches what either matches; intersection what both match', () => {
    fc.assert(
      fc.property(queryTypes, queryTypes, (a, b) => {
        const u = sub(a).union(sub(b));
        const i = sub(a).intersection(sub(b));
        return allEventTypes.every((et) => {
          const inA = bruteMatches(a, et);
          const inB = bruteMatches(b, et);
          return u.matches(et) === (inA || inB) && i.matches(et) === (inA && inB);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('isDisjoint is true iff no enumerated event type matches both', () => {
    fc.assert(
      fc.property(queryTypes, queryTypes, (a, b) => {
        const common = allEventTypes.some((et) => bruteMatches(a, et) && bruteMatches(b, et));
        return sub(a).isDisjoint(sub(b)) === !common && sub(b).isDisjoint(sub(a)) === !common;
      }),
      { numRuns: 500 },
    );
  });

  it('isDisjoint agrees with an empty intersection', () => {
    fc.assert(
      fc.property(queryTypes, queryTypes, (a, b) =>
        sub(a).isDisjoint(sub(b)) === (sub(a).intersection(sub(b)).getQueryTypes().length === 0)),
      { numRuns: 300 },
    );
  });
});
