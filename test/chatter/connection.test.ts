// Chatter connections over real TCP on 127.0.0.1: ids, conversations, ping/pong, bad input
// and close semantics (docs/protocol.md, "Chatter").
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type ChatterServer } from '../../src/chatter/transport.ts';
import { ConnectionClosedError, type ChatterMessage } from '../../src/chatter/connection.ts';
import { encodeFrame } from '../../src/chatter/framing.ts';
import { formatAddress, parseAddress } from '../../src/chatter/address.ts';
import { rawConnect, serverWithConnections } from './helpers.ts';
import { hex, unhex } from '../helpers/vectors.ts';
import { HAT_EVENT_TYPES } from '../../src/sbs/hat-event-types.ts';

const PING = '01178181010100818748617450696e67874d736750696e6780'; // V5, ping id 1
const PONG = '01178181000101818748617450696e67874d7367506f6e6780'; // V5, reply to peer id 1
const SUBSCRIBE = '01258181010101818a4861744576656e7465728c4d73675375627363726962658681828161812a';

let servers: ChatterServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function setup(opts = {}) {
  const s = await serverWithConnections(opts);
  servers.push(s.server);
  return s;
}

describe('addresses', () => {
  it('parses tcp+sbs and ssl+sbs, IPv6 in brackets', () => {
    expect(parseAddress('tcp+sbs://localhost:23012')).toEqual({ protocol: 'tcp', host: 'localhost', port: 23012 });
    expect(parseAddress('ssl+sbs://[::1]:5')).toEqual({ protocol: 'ssl', host: '::1', port: 5 });
    expect(formatAddress('tcp', '::1', 5)).toBe('tcp+sbs://[::1]:5');
  });

  it('refuses a missing port or an unknown scheme', () => {
    expect(() => parseAddress('tcp+sbs://localhost')).toThrowError(/missing port/);
    expect(() => parseAddress('http://localhost:80')).toThrowError(/scheme/);
    expect(() => parseAddress('nonsense')).toThrowError(/invalid chatter address/);
  });
});

describe('ping and pong', () => {
  it('answers a ping with the reference pong bytes and does not deliver it', async () => {
    const { address, next } = await setup();
    const peer = await rawConnect(address);
    const conn = await next();
    const delivered: ChatterMessage[] = [];
    conn.setHandler((m) => delivered.push(m));
    peer.socket.write(unhex(PING));
    expect(hex(await peer.waitBytes(25))).toBe(PONG);
    expect(delivered).toEqual([]);
    peer.socket.destroy();
  });

  it('sends its own pings and closes when no pong comes', async () => {
    const { address, next, logs } = await setup({ pingTimeout: 0.1 });
    const peer = await rawConnect(address);
    const conn = await next();
    const first = await peer.waitBytes(25);
    expect(hex(first.subarray(0, 25))).toBe(PING);
    await conn.closed;
    expect(conn.closeReason).toMatch(/no pong within 100 ms/);
    expect(logs.some((l) => l.includes('no pong'))).toBe(true);
    await peer.ended;
  });

  it('stays open while the peer answers pings', async () => {
    const { address } = await setup();
    const client = await connect(address, { pingTimeout: 0.05 });
    await new Promise((r) => setTimeout(r, 400));
    expect(client.isOpen).toBe(true);
    await client.close();
  });
});

describe('messages and conversations', () => {
  it('numbers messages per direction and routes replies by conversation', async () => {
    const { address, next } = await setup({ pingTimeout: 0 });
    const client = await connect(address, { pingTimeout: 0, sbsTypes: HAT_EVENT_TYPES });
    const server = await next();
    const atServer: ChatterMessage[] = [];
    const atClient: ChatterMessage[] = [];
    let resolveClient: () => void;
    const clientGot = new Promise<void>((r) => (resolveClient = r));
    server.setHandler((m) => {
      atServer.push({ ...m, data: new Uint8Array() });
      if (m.type === 'MsgQueryReq') server.send('HatEventer', 'MsgQueryRes', (w) => w.arrayLength(0), { conversation: m.conversation, last: true });
    });
    client.setHandler((m) => {
      atClient.push({ ...m, data: new Uint8Array() });
      if (atClient.length === 2) resolveClient();
    });
    server.send('HatEventer', 'MsgNotify', (w) => w.arrayLength(0));
    client.send('HatEventer', 'MsgSubscribe', (w) => w.arrayLength(0));
    const req = client.send('HatEventer', 'MsgQueryReq', (w) => w.raw(unhex('808080808080808080800080')), { last: false });
    expect(req).toEqual({ first: 2, owner: true });
    await clientGot;
    expect(atServer.map((m) => [m.id, m.conversation, m.first, m.last])).toEqual([
      [1, { first: 1, owner: false }, true, true],
      [2, { first: 2, owner: false }, true, false],
    ]);
    expect(atClient.map((m) => [m.type, m.id, m.conversation, m.first, m.last])).toEqual([
      ['MsgNotify', 1, { first: 1, owner: false }, true, true],
      ['MsgQueryRes', 2, { first: 2, owner: true }, false, true],
    ]);
    await client.close();
    await server.closed;
    expect(server.closeReason).toBe('closed by peer');
    expect(() => client.send('HatEventer', 'MsgSubscribe')).toThrowError(ConnectionClosedError);
  });

  it('a message that arrives before the handler is attached is delivered later', async () => {
    const { address, next } = await setup();
    const peer = await rawConnect(address);
    const conn = await next();
    // The pong to a ping sent after it proves the message was read (frames are handled in order).
    peer.socket.write(Buffer.concat([unhex(SUBSCRIBE), unhex(PING)]));
    expect(hex(await peer.waitBytes(25))).toBe(PONG);
    const got: string[] = [];
    conn.setHandler((m) => got.push(`${m.type}:${hex(m.data)}`));
    expect(got).toEqual(['MsgSubscribe:81828161812a']);
    peer.socket.destroy();
  });
});

describe('bad input closes only that connection, with a logged reason', () => {
  const bad: [string, string, RegExp][] = [
    ['garbage bytes', '0105ffffffffff', /undecodable Hat.Msg/],
    ['an empty body', '00', /undecodable Hat.Msg/],
    ['an unknown module', hex(encodeFrame({ id: 1, first: 1, owner: true, token: true, last: true }, 'Nope', 'MsgX')), /unknown SBS type Nope.MsgX/],
    ['an unknown type of a known module', hex(encodeFrame({ id: 1, first: 1, owner: true, token: true, last: true }, 'HatEventer', 'MsgX')), /unknown SBS type HatEventer.MsgX/],
    ['an integer longer than int64', '010f' + '0000000000000000000000000080' + '80', /longer than int64/],
    ['an oversized frame', '04ffffffff', /exceeds the maximum/],
  ];

  it.each(bad)('%s', async (_name, bytes, reason) => {
    const { address, next, logs } = await setup();
    const victim = await rawConnect(address);
    const victimConn = await next();
    victimConn.setHandler(() => undefined);
    const other = await rawConnect(address);
    const otherConn = await next();
    const seen: string[] = [];
    otherConn.setHandler((m) => seen.push(m.type));

    victim.socket.write(unhex(bytes));
    await victim.ended;
    expect(victimConn.closeReason).toMatch(reason);
    expect(logs.join('\n')).toMatch(reason);

    other.socket.write(unhex(PING));
    other.socket.write(unhex(SUBSCRIBE));
    expect(hex(await other.waitBytes(25))).toBe(PONG);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['MsgSubscribe']);
    expect(otherConn.isOpen).toBe(true);
    other.socket.destroy();
  });

  it("a connection knows the SBS types its service gives it, by default only chatter's own", async () => {
    const { address, next } = await setup({ sbsTypes: undefined });
    const peer = await rawConnect(address);
    const conn = await next();
    peer.socket.write(unhex(SUBSCRIBE));
    await conn.closed;
    expect(conn.failure?.message).toMatch(/unknown SBS type HatEventer.MsgSubscribe/);
  });

  it('a truncated frame followed by EOF closes the connection and delivers nothing', async () => {
    const { address, next } = await setup();
    const peer = await rawConnect(address);
    const conn = await next();
    const seen: string[] = [];
    conn.setHandler((m) => seen.push(m.type));
    peer.socket.end(unhex(SUBSCRIBE.slice(0, 30)));
    await conn.closed;
    expect(conn.closeReason).toBe('closed by peer');
    expect(seen).toEqual([]);
  });
});

describe('slow reader', () => {
  it('drops a connection whose peer does not read past the send queue limit', async () => {
    const { address, next, logs } = await setup({ maxSendQueue: 1024 * 1024 });
    const peer = await rawConnect(address);
    peer.socket.pause();
    const conn = await next();
    const big = new Uint8Array(64 * 1024);
    for (let i = 0; i < 1000 && conn.isOpen; i++) {
      conn.send('HatEventer', 'MsgNotify', (w) => w.bytes(big), { sizeHint: big.length + 8 });
      await new Promise((r) => setImmediate(r));
    }
    expect(conn.isOpen).toBe(false);
    expect(conn.closeReason).toMatch(/send queue/);
    expect(logs.join('\n')).toMatch(/peer not reading/);
    peer.socket.destroy();
  });
});
