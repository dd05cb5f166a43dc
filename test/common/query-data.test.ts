import { describe, expect, it } from 'vitest';
import { completeQueryData, defaultQueryData } from '../../src/common/index.ts';

describe('QueryData defaults', () => {
  it('case 14: all filters null, descending by timestamp, not unique, unlimited', () => {
    expect(defaultQueryData()).toEqual({
      serverId: null, ids: null, types: null, tFrom: null, tTo: null, sourceTFrom: null,
      sourceTTo: null, payload: null, order: 'descending', orderBy: 'timestamp',
      uniqueType: false, maxResults: null,
    });
    expect(completeQueryData({})).toEqual(defaultQueryData());
    expect(completeQueryData()).toEqual(defaultQueryData());
  });

  it('returns a fresh object each time', () => {
    const a = defaultQueryData();
    a.order = 'ascending';
    expect(defaultQueryData().order).toBe('descending');
  });

  it('keeps given fields and fills undefined ones', () => {
    const q = completeQueryData({ order: 'ascending', maxResults: 3, tFrom: undefined, types: [['a']] });
    expect(q.order).toBe('ascending');
    expect(q.maxResults).toBe(3);
    expect(q.tFrom).toBeNull();
    expect(q.types).toEqual([['a']]);
    expect(q.orderBy).toBe('timestamp');
  });

  it('rejects malformed order, orderBy and maxResults with clear errors', () => {
    expect(() => completeQueryData({ order: 'DESCENDING' as never })).toThrow(/order/);
    expect(() => completeQueryData({ orderBy: 'source_timestamp' as never })).toThrow(/orderBy/);
    expect(() => completeQueryData({ maxResults: 1.5 })).toThrow(/maxResults/);
  });
});
