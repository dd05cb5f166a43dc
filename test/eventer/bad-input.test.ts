// Bad input to the eventer server closes only the offending connection, with a logged
// reason; the server and other clients keep working. A client that does not read its
// notifications is dropped past the send queue limit.
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { describe, expect, it } from 'vitest';
import { encodeFrame, type DataWriter } from '../../src/chatter/framing.ts';
import { SbsWriter } from '../../src/sbs/writer.ts';
import { writeMsgSubscribe } from '../../src/sbs/eventer-messages.ts';
import { writeQueryData } from '../../src/sbs/query-codec.ts';
import { rawConnect } from '../chatter/helpers.ts';
import { hex, unhex } from '../helpers/vectors.ts';
import { closedAfterEach, payloadView, until } from './helpers.ts';

const closed = closedAfterEach();

const frame = (type: string, write: DataWriter, last = true, module = 'HatEventer'): Uint8Array =>
  encodeFrame({ id: 1, first: 1, owner: true, token: true, last }, module, type, write);
const rawInner = (h: string): DataWriter => (w) => w.raw(unhex(h));

function jsonRegister(text: string): DataWriter {
  return (w: SbsWriter) => {
    w.arrayLength(1);
    w.arrayLength(1);
    w.string('j');
    w.choice(0);
    w.choice(1);
    w.choice(1);
    w.string(text);
  };
}

const cases: [string, Uint8Array, RegExp][] = [
  ['a truncated MsgRegisterReq', frame('MsgRegisterReq', rawInner('8182816181'), false), /bad MsgRegisterReq: SBS input truncated/],
  ['a choice index out of range', frame('MsgRegisterReq', rawInner('818181618380'), false), /Choice index 3 out of range/],
  ['an envelope integer longer than int64', unhex('010f' + '00'.repeat(12) + '81' + '8181'), /longer than int64/],
  ['a query whose types put * before the end', frame('MsgQueryReq', (w) => writeQueryData(w, { types: [['*', 'a']] }), false), /query types: .*'\*' must be the last segment/],
  ['a subscription whose types put * before the end', frame('MsgSubscribe', (w) => writeMsgSubscribe(w, [['*', 'a']])), /subscription: .*'\*' must be the last segment/],
  ['a server-only message', frame('MsgNotify', rawInner('80')), /unexpected message HatEventer.MsgNotify/],
  ['a syncer message', frame('MsgSynced', rawInner(''), true, 'HatSyncer'), /unexpected message HatSyncer.MsgSynced/],
  ['an unknown SBS type', frame('MsgWhatever', rawInner('')), /unknown SBS type HatEventer.MsgWhatever/],
  ['garbage', unhex('0104deadbeef'), /undecodable Hat.Msg/],
  ['an oversized frame', unhex('04ffffffff'), /exceeds the maximum/],
];

describe('eventer server bad input', () => {
  it.each(cases)('%s closes only that connection', async (_name, bytes, reason) => {
    const { address, logs, server, engine } = await closed.server();
    const good = await closed.client(address, { subscriptions: [['event', 'eventer']] });
    await good.query({});
    const bad = await rawConnect(address);
    await good.receive(); // CONNECTED of the bad one: it is being served
    bad.socket.write(bytes);
    await bad.ended;
    expect(logs.join('\n')).toMatch(reason);
    const disconnected = await good.receive();
    expect(disconnected.map((e) => payloadView(e.payload))).toEqual([{ json: '"DISCONNECTED"' }]);
    expect(await good.registerWithResponse([{ type: ['still', 'ok'], sourceTimestamp: null, payload: null }])).toHaveLength(1);
    expect(server.connectionCount).toBe(1);
    expect((await engine.query({ types: [['still', 'ok']] })).length).toBe(1);
  });

  it('valid JSON of any form is accepted and kept as sent', async () => {
    const running = await closed.server();
    const peer = await rawConnect(running.address);
    const text = '{"k": [1.0, 1e400, -0.0, "\\u00e9"], "n": 12345678901234567890}';
    peer.socket.write(frame('MsgRegisterReq', jsonRegister(text), false));
    const reply = await peer.waitBytes(40);
    expect(hex(reply)).toContain(Buffer.from(text).toString('hex'));
    const stored = await running.engine.query({ types: [['j']] });
    expect(payloadView(stored[0]!.payload)).toEqual({ json: text });
    peer.socket.destroy();
  });
});

describe('slow reader', () => {
  it('a subscriber that never reads is dropped past the send queue limit (and counted); others continue', async () => {
    const metrics = new MetricsRegistry();
    const { address, server, logs } = await closed.server({ maxSendQueue: 256 * 1024, metrics });
    const slow = await rawConnect(address);
    slow.socket.pause();
    slow.socket.write(frame('MsgSubscribe', (w) => writeMsgSubscribe(w, [['*']])));
    const writer = await closed.client(address);
    await until(() => server.connectionCount === 2);
    const payload = { type: 'binary' as const, data: new Uint8Array(64 * 1024) };
    const batch = Array.from({ length: 10 }, () => ({ type: ['big'], sourceTimestamp: null, payload }));
    for (let i = 0; i < 300 && server.connectionCount === 2; i++) await writer.registerWithResponse(batch);
    await until(() => server.connectionCount === 1);
    expect(logs.join('\n')).toMatch(/send queue of \d+ bytes exceeds the limit of 262144/);
    expect(await writer.registerWithResponse([{ type: ['after'], sourceTimestamp: null, payload: null }])).toHaveLength(1);
    const text = await metrics.text();
    expect(text).toContain('\nhat_event_eventer_slow_readers_dropped_total 1\n');
    expect(text).toContain('\nhat_event_eventer_connections 1\n');
    slow.socket.destroy();
  });
});
