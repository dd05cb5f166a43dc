import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.ts';
import { createMemoryBackend } from '../../src/backends/memory.ts';
import type { Event, EventPayload, EventType, Timestamp } from '../../src/common/index.ts';

interface EventOpts {
  server?: number;
  session?: number;
  instance: number;
  ts?: Timestamp;
  sts?: Timestamp | null;
  payload?: EventPayload | null;
}

/** `E(type, sid=1, ses, inst, ts, sts=ts, payload=null)`: the event shorthand of the numbered cases. */
function E(type: EventType, o: EventOpts): Event {
  const timestamp = o.ts ?? { s: 1000 + o.instance, us: 0 };
  return {
    id: { server: o.server ?? 1, session: o.session ?? 1, instance: o.instance },
    type,
    timestamp,
    sourceTimestamp: o.sts === undefined ? timestamp : o.sts,
    payload: o.payload ?? null,
  };
}

async function backendWith(events: Event[]): Promise<Backend> {
  const backend = await createMemoryBackend();
  expect(await backend.register(events)).toEqual(events);
  return backend;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** e1(a,t1), e2(b,t2), e3(a,t3) of cases 19-21. */
const abaEvents = () => [E(['a'], { instance: 1 }), E(['b'], { instance: 2 }), E(['a'], { instance: 3 })];

/** e1(a,sts=5), e2(b,sts=null), e3(c,sts=3) of cases 22-23. */
const sourceTimeEvents = () => [
  E(['a'], { instance: 1, sts: { s: 5, us: 0 } }),
  E(['b'], { instance: 2, sts: null }),
  E(['c'], { instance: 3, sts: { s: 3, us: 0 } }),
];

describe('memory backend', () => {
  it('case 17: empty store → (server, 0, 0)', async () => {
    const backend = await createMemoryBackend();
    expect(await backend.getLastEventId(7)).toEqual({ server: 7, session: 0, instance: 0 });
  });

  it('case 18: last id per server', async () => {
    const backend = await backendWith([
      E(['a'], { session: 1, instance: 1 }),
      E(['a'], { session: 1, instance: 2 }),
      E(['a'], { server: 2, session: 1, instance: 5 }),
    ]);
    expect(await backend.getLastEventId(1)).toEqual({ server: 1, session: 1, instance: 2 });
    expect(await backend.getLastEventId(2)).toEqual({ server: 2, session: 1, instance: 5 });
    expect(await backend.getLastEventId(3)).toEqual({ server: 3, session: 0, instance: 0 });
  });

  it('last id is the maximum by full EventId order, whatever the registration order', async () => {
    const backend = await backendWith([
      E(['a'], { session: 2, instance: 3 }),
      E(['a'], { session: 1, instance: 9 }),
    ]);
    expect(await backend.getLastEventId(1)).toEqual({ server: 1, session: 2, instance: 3 });
  });

  it('case 19: default order is newest first; ascending reverses', async () => {
    const [e1, e2, e3] = abaEvents();
    const backend = await backendWith([e1!, e2!, e3!]);
    expect(await backend.query({})).toEqual([e3, e2, e1]);
    expect(await backend.query({ order: 'ascending' })).toEqual([e1, e2, e3]);
  });

  it('case 20: unique type keeps the first per type in result order', async () => {
    const [e1, e2, e3] = abaEvents();
    const backend = await backendWith([e1!, e2!, e3!]);
    expect(await backend.query({ uniqueType: true })).toEqual([e3, e2]);
    expect(await backend.query({ uniqueType: true, order: 'ascending' })).toEqual([e1, e2]);
    expect(await backend.query({ uniqueType: true, maxResults: 1 })).toEqual([e3]);
  });

  it('case 21: max results truncates ([Q] fixed); 0 gives nothing', async () => {
    const [e1, e2, e3] = abaEvents();
    const backend = await backendWith([e1!, e2!, e3!]);
    expect(await backend.query({ maxResults: 2 })).toEqual([e3, e2]);
    expect(await backend.query({ maxResults: 0 })).toEqual([]);
    expect(await backend.query({ maxResults: 5 })).toEqual([e3, e2, e1]);
  });

  it('case 22: by source timestamp, events without one go last in both orders', async () => {
    const [e1, e2, e3] = sourceTimeEvents();
    const backend = await backendWith([e1!, e2!, e3!]);
    expect(await backend.query({ orderBy: 'sourceTimestamp', order: 'ascending' })).toEqual([e3, e1, e2]);
    expect(await backend.query({ orderBy: 'sourceTimestamp' })).toEqual([e1, e3, e2]);
  });

  it('case 23: source-time bounds exclude events without a source timestamp', async () => {
    const [e1, e2, e3] = sourceTimeEvents();
    const backend = await backendWith([e1!, e2!, e3!]);
    expect(await backend.query({ sourceTFrom: { s: 0, us: 0 } })).toEqual([e3, e1]);
    expect(await backend.query({ sourceTTo: { s: 4, us: 0 }, order: 'ascending' })).toEqual([e3]);
  });

  it('case 24: timestamp bounds are inclusive', async () => {
    const [e1, e2, e3] = abaEvents();
    const backend = await backendWith([e1!, e2!, e3!]);
    expect(await backend.query({ tFrom: e2!.timestamp, tTo: e2!.timestamp })).toEqual([e2]);
    expect(await backend.query({ tFrom: e2!.timestamp })).toEqual([e3, e2]);
    expect(await backend.query({ tTo: e2!.timestamp })).toEqual([e2, e1]);
  });

  it('case 25: event type filter; [] matches nothing', async () => {
    const ea = E(['a'], { instance: 1 });
    const eab = E(['a', 'b'], { instance: 2 });
    const eb = E(['b'], { instance: 3 });
    const backend = await backendWith([ea, eab, eb]);
    expect(await backend.query({ types: [] })).toEqual([]);
    expect(await backend.query({ types: [['a', '*']], order: 'ascending' })).toEqual([ea, eab]);
  });

  it('case 26: payload filter and event id filter', async () => {
    const json = (data: number): EventPayload => ({ type: 'json', data });
    const e1 = E(['a'], { instance: 1, payload: json(123) });
    const e2 = E(['a'], { instance: 2, payload: json(321) });
    const e3 = E(['a'], { instance: 3, payload: null });
    const e4 = E(['a'], { instance: 4, payload: { type: 'binary', data: new Uint8Array([1, 2, 3]) } });
    const e5 = E(['a'], { instance: 5, payload: json(123) });
    const backend = await backendWith([e1, e2, e3, e4, e5]);
    expect(await backend.query({ payload: json(123) })).toEqual([e5, e1]);
    expect(await backend.query({ ids: [e1.id] })).toEqual([e1]);
    expect(await backend.query({ ids: [] })).toEqual([]);
  });

  it('case 27: equal timestamps keep registration order in both directions (stable)', async () => {
    const t = { s: 50, us: 7 };
    const events = [1, 2, 3].map((instance) => E(['x'], { instance, ts: t }));
    const backend = await backendWith(events);
    const instances = (es: Event[]) => es.map((e) => e.id.instance);
    expect(instances(await backend.query({}))).toEqual([1, 2, 3]);
    expect(instances(await backend.query({ order: 'ascending' }))).toEqual([1, 2, 3]);
  });

  it('ties keep registration order inside a descending sort of mixed keys', async () => {
    const t = (s: number) => ({ s, us: 0 });
    const [e1, e2, e3, e4] = [t(1), t(2), t(2), t(3)].map((ts, i) => E(['x'], { instance: i + 1, ts }));
    const backend = await backendWith([e1!, e2!, e3!, e4!]);
    expect(await backend.query({})).toEqual([e4, e2, e3, e1]);
    expect(await backend.query({ order: 'ascending' })).toEqual([e1, e2, e3, e4]);
  });

  it('case 28: flush never calls flushed callbacks; queryFlushed yields nothing', async () => {
    const [e1, e2, e3] = abaEvents();
    const backend = await createMemoryBackend();
    const calls: Event[][] = [];
    backend.onFlushed((events) => calls.push(events));
    await backend.register([e1!, e2!, e3!]);
    await backend.flush();
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([]);
    expect(await collect(backend.queryFlushed({ server: 1, session: 0, instance: 0 }))).toEqual([]);
  });

  it('combines filters (AND) with server id', async () => {
    const e1 = E(['a'], { instance: 1 });
    const e2 = E(['a'], { server: 2, instance: 2 });
    const e3 = E(['b'], { server: 2, instance: 3 });
    const backend = await backendWith([e1, e2, e3]);
    expect(await backend.query({ serverId: 2 })).toEqual([e3, e2]);
    expect(await backend.query({ serverId: 2, types: [['a']] })).toEqual([e2]);
    expect(await backend.query({ serverId: 9 })).toEqual([]);
  });

  it('stores duplicates and returns the input unchanged', async () => {
    const e1 = E(['a'], { instance: 1 });
    const backend = await backendWith([e1, e1]);
    expect(await backend.query({})).toEqual([e1, e1]);
  });

  it('rejects malformed queries with a clear error and keeps its data', async () => {
    const e1 = E(['a'], { instance: 1 });
    const backend = await backendWith([e1]);
    await expect(backend.query({ types: [['*', 'a']] })).rejects.toThrow(/invalid query event type/);
    await expect(backend.query({ orderBy: 'time' as never })).rejects.toThrow(/orderBy/);
    expect(await backend.query({})).toEqual([e1]);
  });

  it('close is idempotent; afterwards register and query reject clearly', async () => {
    const backend = await createMemoryBackend();
    await backend.close();
    await backend.close();
    await expect(backend.register([E(['a'], { instance: 1 })])).rejects.toThrow(/memory backend is closed/);
    await expect(backend.query({})).rejects.toThrow(/memory backend is closed/);
    await expect(backend.getLastEventId(1)).rejects.toThrow(/closed/);
  });
});
