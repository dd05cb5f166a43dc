// Status events (docs/protocol.md, Syncer, "Status events"), registered through the engine with Source(syncer, 0), each
// as its own session: the server's client list at start and on every change, and the client's
// `false` when a peer's backlog starts and `true` on its MsgSynced, on every (re)connect.
import { describe, expect, it } from 'vitest';
import { SYNCER_SOURCE } from '../../src/syncer/status.ts';
import { payloadText, startNode, startProxy, statusEvents, statusSessions, until, untilCaughtUp } from './helpers.ts';

const list = (...clients: [string, boolean][]): unknown => clients.map(([name, synced]) => ({ client_name: name, synced }));

describe('status events', () => {
  it('have the right payloads in the right order, false then true on each (re)connect', async () => {
    const a = await startNode({ serverId: 1 });
    const proxy = await startProxy(a.address);
    const b = await startNode({ serverId: 2, peers: [{ serverId: 1, address: proxy.address }] });
    await untilCaughtUp(a, b);
    await until(() => statusEvents(b).length === 3);

    proxy.cut(); // B's connection drops; it reconnects after its delay
    await until(() => proxy.connections === 2);
    await until(() => statusEvents(a).length === 6);
    await until(() => statusEvents(b).length === 5);

    expect(statusEvents(a)).toEqual([
      ['event/syncer/server', []],
      ['event/syncer/server', list(['2', false])],
      ['event/syncer/server', list(['2', true])],
      ['event/syncer/server', []],
      ['event/syncer/server', list(['2', false])],
      ['event/syncer/server', list(['2', true])],
    ]);
    expect(statusEvents(b)).toEqual([
      ['event/syncer/server', []],
      ['event/syncer/client/1/synced', false],
      ['event/syncer/client/1/synced', true],
      ['event/syncer/client/1/synced', false],
      ['event/syncer/client/1/synced', true],
    ]);
    // Hat's JSON text, each event its own session.
    const [, notSynced, synced] = statusSessions(a);
    expect(notSynced!.map(payloadText)).toEqual(['[{"client_name": "2", "synced": false}]']);
    expect(synced!.map(payloadText)).toEqual(['[{"client_name": "2", "synced": true}]']);
    expect(statusSessions(b).slice(1).map((s) => s.map(payloadText))).toEqual([['false'], ['true'], ['false'], ['true']]);
    expect(a.server.clients).toEqual([{ clientName: '2', synced: true }]);
    expect(b.client!.peers).toEqual([{ serverId: 1, address: proxy.address, state: 'synced' }]);
  });

  it('lists every connected client in the order they asked, and registers with Source(syncer, 0)', async () => {
    const a = await startNode({ serverId: 1 });
    const sources: unknown[] = [];
    const register = a.engine.register.bind(a.engine);
    a.engine.register = (source, events) => {
      sources.push(source);
      return register(source, events);
    };
    const b = await startNode({ serverId: 2, peers: [{ serverId: 1, address: a.address }] });
    await untilCaughtUp(a, b);
    const c = await startNode({ serverId: 3, peers: [{ serverId: 1, address: a.address }] });
    await untilCaughtUp(a, c);
    await b.close();
    await until(() => statusEvents(a).length === 6);
    expect(statusEvents(a).slice(1)).toEqual([
      ['event/syncer/server', list(['2', false])],
      ['event/syncer/server', list(['2', true])],
      ['event/syncer/server', list(['2', true], ['3', false])],
      ['event/syncer/server', list(['2', true], ['3', true])],
      ['event/syncer/server', list(['3', true])],
    ]);
    expect(sources).toEqual(Array(5).fill(SYNCER_SOURCE));
  });
});
