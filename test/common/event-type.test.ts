import { describe, expect, it } from 'vitest';
import { eventTypeKey, eventTypesEqual, matchesQueryType } from '../../src/common/index.ts';

describe('matchesQueryType', () => {
  it('case 1: wildcards and lengths', () => {
    const cases: [string[], string[], boolean][] = [
      [[], ['*'], true],
      [[], ['?'], false],
      [['a'], [], false],
      [['a'], ['?', '*'], true],
      [['a'], ['a', '?'], false],
      [['a', 'b'], ['?', 'b', '*'], true],
      [['a', 'b'], ['?', '?', '?'], false],
      [['a', 'b'], ['b', 'a'], false],
    ];
    for (const [eventType, queryType, expected] of cases) {
      expect(matchesQueryType(eventType, queryType), `${eventType} / ${queryType}`).toBe(expected);
    }
  });

  it('treats a "*" that is not last as a literal segment', () => {
    expect(matchesQueryType(['*', 'a'], ['*', 'a'])).toBe(true);
    expect(matchesQueryType(['x', 'a'], ['*', 'a'])).toBe(false);
  });

  it('treats the empty string as an ordinary segment', () => {
    expect(matchesQueryType([''], [''])).toBe(true);
    expect(matchesQueryType(['a'], [''])).toBe(false);
    expect(matchesQueryType([''], ['?'])).toBe(true);
  });
});

describe('event type keys', () => {
  it('distinguish types whose joined segments would collide', () => {
    expect(eventTypeKey(['a/b'])).not.toBe(eventTypeKey(['a', 'b']));
    expect(eventTypeKey([''])).not.toBe(eventTypeKey([]));
    expect(eventTypesEqual(['a', ''], ['a', ''])).toBe(true);
    expect(eventTypesEqual(['a'], ['a', ''])).toBe(false);
  });
});
