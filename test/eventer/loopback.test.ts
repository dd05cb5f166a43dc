// Our client against our server over real TCP (engine + memory backend).
import { describe, expect, it } from 'vitest';
import type { EventerClient } from '../../src/eventer/client.ts';
import { ConnectionClosedError } from '../../src/chatter/connection.ts';
import { jsonPayloadFromText } from '../../src/common/json-payload.ts';
import type { Event, RegisterEvent } from '../../src/common/types.ts';
import { closedAfterEach, payloadView, typesOf, until } from './helpers.ts';

const { server: setup, client } = closedAfterEach();

const ev = (type: string[], payload: RegisterEvent['payload'] = null, sourceTimestamp: RegisterEvent['sourceTimestamp'] = null): RegisterEvent =>
  ({ type, sourceTimestamp, payload });

describe('eventer loopback', () => {
  it('subscribes with wildcards and gets notified before the register response', async () => {
    const { address } = await setup();
    const c = await client(address, { subscriptions: [['a', '*'], ['?', 'x']] });
    const res = await c.registerWithResponse([ev(['a', 'b']), ev(['b', 'x']), ev(['b', 'y']), ev(['a'])]);
    expect(res.map((e) => e?.type.join('/'))).toEqual(['a/b', 'b/x', 'b/y', 'a']);
    const ids = res.map((e) => e!.id);
    expect(new Set(ids.map((i) => i.session)).size).toBe(1);
    expect(ids.map((i) => i.instance)).toEqual([ids[0]!.instance, ids[0]!.instance + 1, ids[0]!.instance + 2, ids[0]!.instance + 3]);
    // Already queued when the response arrived (notify precedes the response on the wire).
    const notified = await Promise.race([c.receive(), new Promise<null>((r) => setImmediate(() => r(null)))]);
    expect(notified && typesOf(notified)).toEqual(['a/b', 'b/x', 'a']);
  });

  it('register without response still notifies, payloads intact', async () => {
    const { address } = await setup();
    const c = await client(address, { subscriptions: [['*']] });
    const events: RegisterEvent[] = [
      ev(['j'], jsonPayloadFromText('{"a": 1.0, "big": 123456789012345678901}'), { s: 1700000000, us: 5 }),
      ev(['b'], { type: 'binary', data: new Uint8Array([0, 255]) }),
      ev(['s'], { type: 'sbs', data: { module: null, type: 'Integer', data: new Uint8Array([0x81]) } }),
      ev(['n'], null),
      ev(['js'], { type: 'json', data: { x: [1, 'č'] } }),
    ];
    await c.register(events);
    const got = await c.receive();
    expect(got.map((e) => payloadView(e.payload))).toEqual([
      { json: '{"a": 1.0, "big": 123456789012345678901}' },
      { binary: '00ff' },
      { sbs: { module: null, type: 'Integer', data: '81' } },
      null,
      { json: '{"x": [1, "\\u010d"]}' },
    ]);
    expect(got[0]!.sourceTimestamp).toEqual({ s: 1700000000, us: 5 });
  });

  it('subscribe can change at any time and replaces the old subscription', async () => {
    const { address } = await setup();
    const c = await client(address);
    await c.registerWithResponse([ev(['a'])]);
    c.subscribe([['b']]);
    await c.registerWithResponse([ev(['a']), ev(['b'])]);
    c.subscribe([['a']]);
    await c.registerWithResponse([ev(['a']), ev(['b'])]);
    c.subscribe([]);
    await c.registerWithResponse([ev(['a']), ev(['b'])]);
    await c.close();
    const received: string[][] = [];
    for await (const events of c) received.push(typesOf(events));
    expect(received).toEqual([['b'], ['a']]);
  });

  it('two clients see each other, including CONNECTED and DISCONNECTED', async () => {
    const { address } = await setup();
    const a = await client(address, { subscriptions: [['*']] });
    await a.query({}); // the subscription is applied before b connects
    const b = await client(address, { subscriptions: [['x', '*']] });
    const connected = await a.receive();
    expect(connected.map((e) => [e.type.join('/'), payloadView(e.payload)])).toEqual([['event/eventer', { json: '"CONNECTED"' }]]);
    await b.register([ev(['x', 'from-b'])]);
    expect(typesOf(await a.receive())).toEqual(['x/from-b']);
    expect(typesOf(await b.receive())).toEqual(['x/from-b']);
    await a.register([ev(['x', 'from-a'])]);
    expect(typesOf(await b.receive())).toEqual(['x/from-a']);
    expect(typesOf(await a.receive())).toEqual(['x/from-a']);
    await b.close();
    const disconnected = await a.receive();
    expect(disconnected.map((e) => payloadView(e.payload))).toEqual([{ json: '"DISCONNECTED"' }]);
  });

  it('queries with every filter', async () => {
    const { address } = await setup();
    const c = await client(address);
    // Distinct timestamps: equal ones keep registration order in both directions (case 27).
    const reg = async (events: RegisterEvent[]): Promise<Event[]> => {
      await new Promise((r) => setTimeout(r, 2));
      return (await c.registerWithResponse(events)) as Event[];
    };
    const [e1] = await reg([ev(['q', 'a'], { type: 'json', data: 1 }, { s: 10, us: 0 })]);
    const [e2] = await reg([ev(['q', 'b'], { type: 'json', data: 2 }, null)]);
    const [e3] = await reg([ev(['q', 'a'], { type: 'binary', data: new Uint8Array([3]) }, { s: 30, us: 0 })]);
    const q = async (data: Parameters<EventerClient['query']>[0]) => (await c.query({ types: [['q', '*']], ...data })).map((e) => e.id.instance);
    const [i1, i2, i3] = [e1!.id.instance, e2!.id.instance, e3!.id.instance];
    expect(await q({})).toEqual([i3, i2, i1]);
    expect(await q({ order: 'ascending' })).toEqual([i1, i2, i3]);
    expect(await q({ types: [['q', 'a']] })).toEqual([i3, i1]);
    expect(await q({ ids: [e2!.id] })).toEqual([i2]);
    expect(await q({ serverId: 1 })).toEqual([i3, i2, i1]);
    expect(await q({ serverId: 2 })).toEqual([]);
    expect(await q({ tFrom: e2!.timestamp })).toEqual([i3, i2]);
    expect(await q({ tTo: e2!.timestamp })).toEqual([i2, i1]);
    expect(await q({ sourceTFrom: { s: 20, us: 0 } })).toEqual([i3]);
    expect(await q({ sourceTTo: { s: 20, us: 0 } })).toEqual([i1]);
    expect(await q({ payload: { type: 'json', data: 2 } })).toEqual([i2]);
    expect(await q({ orderBy: 'sourceTimestamp', order: 'ascending' })).toEqual([i1, i3, i2]);
    expect(await q({ uniqueType: true })).toEqual([i3, i2]);
    expect(await q({ maxResults: 1 })).toEqual([i3]);
    const all = await c.query({ types: [['q', '*']], ids: [e1!.id] });
    expect(payloadView(all[0]!.payload)).toEqual({ json: '1' });
  });

  it('empty register gets an empty response', async () => {
    const { address } = await setup();
    const c = await client(address);
    expect(await c.registerWithResponse([])).toEqual([]);
  });

  it('pings with a short timeout keep the connection open', async () => {
    const { address } = await setup({ pingTimeout: 0.05 });
    const c = await client(address, { pingTimeout: 0.05 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await c.registerWithResponse([ev(['p'])])).toHaveLength(1);
  });

  it('server close ends the client: pending and later calls reject, iteration ends', async () => {
    const r = await setup();
    const c = await client(r.address, { subscriptions: [['*']] });
    await c.query({});
    const receiving = c.receive();
    receiving.catch(() => undefined); // asserted below
    await r.server.close();
    await c.closed;
    await expect(receiving).rejects.toThrowError(ConnectionClosedError);
    await expect(c.receive()).rejects.toThrowError(ConnectionClosedError);
    await expect(c.query({})).rejects.toThrowError(ConnectionClosedError);
    const rest: Event[][] = [];
    for await (const events of c) rest.push(events);
    expect(rest).toEqual([]);
    expect(r.server.connectionCount).toBe(0);
  });

  it('client close is seen by the server', async () => {
    const r = await setup();
    const c = await client(r.address);
    await c.query({});
    expect(r.server.connectionCount).toBe(1);
    const disconnected = new Promise<Event[]>((resolve) =>
      r.engine.onEvents((events) => events[0]?.type.join('/') === 'event/eventer' && resolve(events)),
    );
    await c.close();
    await until(() => r.server.connectionCount === 0);
    // DISCONNECTED goes through the engine like any registration: wait for its session.
    const [event] = await disconnected;
    expect(payloadView(event!.payload)).toEqual({ json: '"DISCONNECTED"' });
    expect(event!.id.session).toBeGreaterThan(1);
  });
});
