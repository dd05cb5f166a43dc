// One connection sending many register requests without waiting: they reach the engine without
// waiting for each other's answers, yet ids, answers and what a later query sees are those of
// one-at-a-time handling; an engine refusing them all at once closes the connection cleanly.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/common/types.ts';
import type { RegisterEvent } from '../../src/common/types.ts';
import type { EventerEngine } from '../../src/eventer/eventer-engine.ts';
import { createEventerServer } from '../../src/eventer/server.ts';
import { recordingLogger } from '../helpers/logger.ts';
import { closedAfterEach, until } from './helpers.ts';

const { server, client } = closedAfterEach();
const N = 200;
const ev = (i: number) => ({ type: ['pipe', String(i)], sourceTimestamp: null, payload: { type: 'json' as const, data: i } });

describe('pipelined registrations on one connection', () => {
  it('get ids in the order sent, answers in that order, and a query after them sees them all', async () => {
    const s = await server();
    const c = await client(s.address);
    const order: number[] = [];
    const answers = Array.from({ length: N }, (_, i) => c.registerWithResponse([ev(i)]).then((r) => (order.push(i), r[0]!)));
    const query = c.query({ types: [['pipe', '*']], maxResults: N + 1 }); // sent after all of them
    const registered = (await Promise.all(answers)) as Event[];
    expect(order).toEqual(Array.from({ length: N }, (_, i) => i));
    const instances = registered.map((e) => e.id.session);
    expect(instances).toEqual([...instances].sort((a, b) => a - b));
    expect(new Set(instances).size).toBe(N); // one session per request, as before
    expect(registered.map((e) => e.type[1])).toEqual(Array.from({ length: N }, (_, i) => String(i)));
    expect((await query).length).toBe(N);
  });

  it('closes the connection, with no unhandled rejection, when later ones fail while an earlier one waits', async () => {
    // An engine whose answers the test gives: the connection's own failure path, driven exactly
    // (a real engine fails them all at once, which cannot be timed against a pending answer).
    const waiting: { events: RegisterEvent[]; resolve: (r: (Event | null)[]) => void; reject: (e: Error) => void }[] = [];
    const engine: EventerEngine = {
      register: (_source, events) =>
        events[0]!.type[0] === 'event' ? Promise.resolve([null]) : new Promise((resolve, reject) => waiting.push({ events, resolve, reject })),
      query: async () => [],
      queryEncoded: async () => ({ count: 0, chunks: [] }),
      onEvents: () => () => undefined,
    };
    const logs: string[] = [];
    const srv = await createEventerServer(engine, 'tcp+sbs://127.0.0.1:0', { logger: recordingLogger(logs) });
    try {
      const c = await client(srv.addresses[0]!);
      const outcomes = Promise.allSettled(Array.from({ length: 5 }, (_, i) => c.registerWithResponse([ev(i)])));
      await until(() => waiting.length === 5); // all five handed over without waiting for an answer
      for (const w of waiting.slice(1)) w.reject(new Error('engine closed'));
      await new Promise((resolve) => setTimeout(resolve, 20)); // the first still unanswered meanwhile
      waiting[0]!.reject(new Error('engine closed'));
      expect((await outcomes).every((o) => o.status === 'rejected')).toBe(true);
      await until(() => logs.some((l) => l.includes('request failed: engine closed')));
    } finally {
      await srv.close();
    }
  });
});
