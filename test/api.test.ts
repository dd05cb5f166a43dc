// The public names of docs/api.md are exported from the package root.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.ts';

const functions = [
  'matchesQueryType', 'compareEventIds', 'compareTimestamps', 'now', 'timestampToDate', 'timestampFromDate',
  'timestampToFloat', 'timestampFromFloat', 'timestampAdd',
  'createMemoryBackend', 'createDummyBackend', 'createLmdbBackend',
  'createEngine', 'connectEventer', 'createEventerServer', 'runServer', 'MetricsRegistry',
  'connectMonitorClient', 'createMonitorComponent', 'createEventerFollower',
  'connectSyncer', 'createSyncerServer', 'createSyncerClient', 'staticPeers', 'flushedOnRegister',
];

describe('package root', () => {
  it.each(functions)('exports %s', (name) => {
    expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
  });

  it('exports Subscription with the documented methods', () => {
    const sub = new api.Subscription([['a', '*']]);
    expect(sub.matches(['a', 'b'])).toBe(true);
    expect(sub.getQueryTypes()).toEqual([['a', '*']]);
    expect(sub.union(new api.Subscription([['b']])).matches(['b'])).toBe(true);
    expect(sub.intersection(new api.Subscription([['a', 'c']])).getQueryTypes()).toEqual([['a', 'c']]);
    expect(sub.isDisjoint(new api.Subscription([['b']]))).toBe(true);
    expect(() => new api.Subscription([['*', 'a']])).toThrow();
  });

  it('a memory backend, an engine, an eventer server and a client work together from the root', async () => {
    const backend = await api.createMemoryBackend();
    const engine = await api.createEngine({ server_id: 7, modules: [] }, backend);
    const server = await api.createEventerServer(engine, 'tcp+sbs://127.0.0.1:0');
    const client = await api.connectEventer(server.addresses[0]!, { subscriptions: [['*']] });
    try {
      const [event] = await client.registerWithResponse([{ type: ['x'], sourceTimestamp: null, payload: null }]);
      expect(event?.id.server).toBe(7);
      expect((await client.query({ types: [['x']] })).map((e) => e.id)).toEqual([event!.id]);
    } finally {
      await client.close();
      await server.close();
      await engine.close();
      await backend.close();
    }
  });
});
