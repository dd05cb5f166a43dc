// The edge rule (src/eventer/incoming.ts): a register request is judged event by event. What
// Hat stores, we store as sent; what cannot be stored faithfully fails alone (null, one log line)
// while the rest of the request, the connection and the server go on. A query or subscription
// that cannot be answered as sent closes only its connection, with the reason logged.
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, type DataWriter } from '../../src/chatter/framing.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import type { SbsWriter } from '../../src/sbs/writer.ts';
import { readHatMsg } from '../../src/sbs/hat-messages.ts';
import { readEvents } from '../../src/sbs/event-codec.ts';
import { readMsgRegisterRes, writeMsgSubscribe } from '../../src/sbs/eventer-messages.ts';
import { encodeQueryData, writeQueryData } from '../../src/sbs/query-codec.ts';
import type { Event, RegisterEvent } from '../../src/common/types.ts';
import { rawConnect, type RawPeer } from '../chatter/helpers.ts';
import { closedAfterEach, payloadView } from './helpers.ts';

const closed = closedAfterEach();

/** A raw client: exact request bytes out, decoded replies back. */
async function rawClient(address: string): Promise<{ peer: RawPeer; request(type: string, write: DataWriter): Promise<Uint8Array> }> {
  const peer = await rawConnect(address);
  let id = 0;
  let seen = 0;
  const replies = new Map<number, Uint8Array>();
  const decoder = new FrameDecoder();
  return {
    peer,
    async request(type, write) {
      const first = ++id;
      peer.socket.write(encodeFrame({ id: first, first, owner: true, token: true, last: false }, 'HatEventer', type, write));
      for (;;) {
        const all = peer.received();
        if (all.length > seen) {
          decoder.push(all.subarray(seen), (body) => {
            const msg = readHatMsg(new SbsReader(body));
            if (!msg.owner) replies.set(msg.first, msg.data.slice());
            return true;
          });
          seen = all.length;
        }
        const reply = replies.get(first);
        if (reply) return reply;
        await Promise.race([peer.waitBytes(seen + 1), peer.ended.then(() => {
          throw new Error('connection closed before the reply');
        })]);
      }
    },
  };
}

type RawEvent = (w: SbsWriter) => void;

/** type ['t', name], the source timestamp written by `ts` (or none), a payload written by `payload` (or none). */
function rawEvent(name: string | Uint8Array, ts?: (w: SbsWriter) => void, payload?: (w: SbsWriter) => void): RawEvent {
  return (w) => {
    w.arrayLength(2);
    w.string('t');
    if (typeof name === 'string') w.string(name);
    else w.bytes(name);
    if (ts) {
      w.choice(1);
      ts(w);
    } else {
      w.choice(0);
    }
    if (payload) {
      w.choice(1);
      payload(w);
    } else {
      w.choice(0);
    }
  };
}

const timestamp = (s: number, us: number) => (w: SbsWriter) => {
  w.integer(s);
  w.integer(us);
};
const jsonText = (text: string) => (w: SbsWriter) => {
  w.choice(1);
  w.string(text);
};
const registerReq = (events: RawEvent[]): DataWriter => (w) => {
  w.arrayLength(events.length);
  for (const e of events) e(w);
};
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const secondSegment = (results: (Event | null)[]): (string | null)[] => results.map((e) => e?.type[1] ?? null);

describe('register: each event is judged on its own', () => {
  it("odd source timestamps Hat stores are stored and answered as sent", async () => {
    const { address, engine } = await closed.server();
    const client = await closed.client(address);
    const odd = [[0, 1_000_000], [0, -1], [0, 2 ** 31], [0, -(2 ** 40)], [-5, 999_999], [2 ** 53 - 1, 0]] as const;
    const events: RegisterEvent[] = odd.map(([s, us], i) => ({ type: ['t', String(i)], sourceTimestamp: { s, us }, payload: null }));
    const results = await client.registerWithResponse(events);
    expect(results.map((e) => e?.sourceTimestamp)).toEqual(odd.map(([s, us]) => ({ s, us })));
    const stored = await engine.query({ types: [['t', '*']], order: 'ascending' });
    expect(stored.map((e) => e.sourceTimestamp)).toEqual(odd.map(([s, us]) => ({ s, us })));
  });

  it('what cannot be stored faithfully fails alone, with one log line each; the rest is registered', async () => {
    const { address, logs, server } = await closed.server();
    const raw = await rawClient(address);
    const beyondInt64 = (w: SbsWriter) => {
      w.raw(new Uint8Array([0x01, ...new Array(11).fill(0), 0x80])); // a 13-byte Integer
      w.integer(0);
    };
    const request = registerReq([
      rawEvent('ok1'),
      rawEvent(new Uint8Array([0xc3, 0x28])), // not UTF-8
      rawEvent('big', (w) => {
        w.bigint(2n ** 60n);
        w.integer(0);
      }),
      rawEvent('huge', beyondInt64),
      rawEvent('badjson', undefined, jsonText('{"a": ')),
      rawEvent('nan', undefined, jsonText('[NaN]')),
      rawEvent('deep', undefined, jsonText(nested(257))),
      rawEvent('deep-ok', undefined, jsonText(nested(256))),
      rawEvent('ok2', timestamp(1, 2)),
    ]);
    const results = readMsgRegisterRes(new SbsReader(await raw.request('MsgRegisterReq', request)));
    expect(secondSegment(results)).toEqual(['ok1', null, null, null, null, null, null, 'deep-ok', 'ok2']);
    const text = logs.join('\n');
    expect(text.match(/register event refused/g)).toHaveLength(6);
    expect(text).toMatch(/"index":1,"reason":"SBS String at offset \d+ is not valid UTF-8"/);
    expect(text).toMatch(/"index":2,"reason":"SBS Integer at offset \d+ is outside the safe JS integer range"/);
    expect(text).toMatch(/"index":4,"reason":"invalid JSON payload/);
    expect(text).toMatch(/"index":6,"reason":"JSON nested 257 deep, deeper than the limit of 256 \(max_json_depth\)"/);
    // the connection goes on
    const again = readMsgRegisterRes(new SbsReader(await raw.request('MsgRegisterReq', registerReq([rawEvent('after')]))));
    expect(secondSegment(again)).toEqual(['after']);
    expect(server.connectionCount).toBe(1);
    raw.peer.socket.destroy();
  });

  it("the server's own ['event', ...] types are refused to clients unless allowReservedTypes restores Hat's behaviour", async () => {
    const fake: RegisterEvent = { type: ['event', 'engine'], sourceTimestamp: null, payload: { type: 'json', data: 'STOPPED' } };
    const mine: RegisterEvent = { type: ['mine'], sourceTimestamp: null, payload: null };
    const strict = await closed.server();
    const client = await closed.client(strict.address);
    expect((await client.registerWithResponse([fake, mine])).map((e) => e?.type ?? null)).toEqual([null, ['mine']]);
    expect(strict.logs.join('\n')).toMatch(/register event refused.*reserved for the server's own status events/);
    const engineEvents = await strict.engine.query({ types: [['event', 'engine']] });
    expect(engineEvents.map((e) => payloadView(e.payload))).toEqual([{ json: '"STARTED"' }]);

    const permissive = await closed.server({ allowReservedTypes: true });
    const hatLike = await closed.client(permissive.address);
    expect((await hatLike.registerWithResponse([fake])).map((e) => e?.type ?? null)).toEqual([['event', 'engine']]);
  });

  it('the JSON depth bound is configurable', async () => {
    const { address } = await closed.server({ maxJsonDepth: 3 });
    const raw = await rawClient(address);
    const results = readMsgRegisterRes(new SbsReader(await raw.request('MsgRegisterReq', registerReq([
      rawEvent('3', undefined, jsonText('{"a": [[1]]}')),
      rawEvent('4', undefined, jsonText('{"a": [[[1]]]}')),
    ]))));
    expect(secondSegment(results)).toEqual(['3', null]);
    raw.peer.socket.destroy();
  });
});

describe('query: answered as Hat answers, or the connection closes with the reason', () => {
  it('integers beyond 2^53 (and beyond int64) are answered as Hat would: nothing stored is that large', async () => {
    const { address } = await closed.server();
    const client = await closed.client(address);
    await client.registerWithResponse([{ type: ['q'], sourceTimestamp: { s: 10, us: 0 }, payload: null }]);
    const raw = await rawClient(address);
    const query = async (write: DataWriter): Promise<Event[]> => readEvents(new SbsReader(await raw.request('MsgQueryReq', write)));
    const base = { types: [['q']] };
    // serverId 2^62, then 2^70 (13 bytes, beyond int64): no such server
    const afterServerId = encodeQueryData(base).subarray(1); // the encoding of serverId none is one byte
    for (const serverId of [new Uint8Array([0x01, 0, 0, 0, 0, 0, 0, 0, 0x80]), new Uint8Array([0x01, ...new Array(11).fill(0), 0x80])]) {
      expect(await query((w) => {
        w.choice(1);
        w.raw(serverId);
        w.raw(afterServerId);
      })).toEqual([]);
    }
    expect((await query((w) => writeQueryData(w, base))).map((e) => e.type)).toEqual([['q']]);
    // maxResults 2^62 and a source-time window of ±2^62 s: everything
    const wide = await query((w) => {
      w.choice(0); // serverId
      w.choice(0); // ids
      w.optional(base.types, (x, types) => writeMsgSubscribe(x, types));
      w.choice(0); // tFrom
      w.choice(0); // tTo
      for (const s of [-(2n ** 62n), 2n ** 62n]) {
        w.choice(1);
        w.bigint(s);
        w.integer(0);
      }
      w.choice(0); // payload
      w.choice(0); // descending
      w.choice(0); // by timestamp
      w.boolean(false);
      w.choice(1);
      w.bigint(2n ** 62n); // maxResults
    });
    expect(wide.map((e) => e.type)).toEqual([['q']]);
    raw.peer.socket.destroy();
  });

  it('a payload filter nested deeper than the bound closes that connection only, saying why', async () => {
    const { address, logs, engine } = await closed.server();
    const good = await closed.client(address);
    const deep = await closed.client(address);
    const filter = { type: 'json' as const, data: null, text: nested(10_000) };
    await expect(deep.query({ payload: filter })).rejects.toThrow(/connection closed/);
    expect(logs.join('\n')).toMatch(/query payload filter: JSON nested 10000 deep, deeper than the limit of 256/);
    expect(await good.registerWithResponse([{ type: ['fine'], sourceTimestamp: null, payload: null }])).toHaveLength(1);
    expect((await engine.query({ types: [['fine']] })).length).toBe(1);
  });
});
