// Every case of vectors/eventer-sbs.json: our decoder yields the recorded value and our
// encoder yields the recorded bytes (test/fixtures/vectors/README.md says how they were recorded).
import { describe, expect, it } from 'vitest';
import { SbsReader } from '../../src/sbs/reader.ts';
import { SbsWriter } from '../../src/sbs/writer.ts';
import { SbsError } from '../../src/sbs/errors.ts';
import {
  readEvent, readEventId, readEvents, readPayload, readRegisterEvent, readSbsData, readTimestamp,
  writeEvent, writeEventId, writeEvents, writePayload, writeRegisterEvent, writeSbsData, writeTimestamp,
} from '../../src/sbs/event-codec.ts';
import { readQueryData, writeQueryData } from '../../src/sbs/query-codec.ts';
import {
  readMsgRegisterReq, readMsgRegisterRes, readMsgSubscribe, writeMsgRegisterReq, writeMsgRegisterRes, writeMsgSubscribe,
} from '../../src/sbs/eventer-messages.ts';
import { readSyncerMsgReq, writeSyncerMsgReq } from '../../src/sbs/syncer-messages.ts';
import { readHatMsg, writeHatMsg } from '../../src/sbs/hat-messages.ts';
import { pythonJsonText } from '../../src/common/json-payload.ts';
import type { JsonValue } from '../../src/common/types.ts';
import {
  eventForm, eventFrom, hex, payloadForm, payloadFrom, queryDataForm, queryDataFrom, registerEventForm,
  registerEventFrom, registerResForm, registerResFrom, sbsDataForm, sbsDataFrom, sbsVectors, unhex, type SbsCase,
} from '../helpers/vectors.ts';

interface Codec {
  write(w: SbsWriter, v: unknown): void;
  read(r: SbsReader): unknown;
}

const same = <T>(x: T): T => x;
const none: Codec = { write: () => undefined, read: () => null };

function codec<T>(write: (w: SbsWriter, v: T) => void, read: (r: SbsReader) => T, from: (v: unknown) => T, form: (v: T) => unknown): Codec {
  return { write: (w, v) => write(w, from(v)), read: (r) => form(read(r)) };
}

const eventList = codec(writeEvents, readEvents, (v) => (v as unknown[]).map(eventFrom), (es) => es.map(eventForm));

const codecs: Record<string, Codec> = {
  'HatEventer.MsgSubscribe': codec(writeMsgSubscribe, readMsgSubscribe, (v) => v as string[][], same),
  'HatEventer.MsgRegisterReq': codec(writeMsgRegisterReq, readMsgRegisterReq, (v) => (v as unknown[]).map(registerEventFrom), (es) => es.map(registerEventForm)),
  'HatEventer.MsgRegisterRes': codec(writeMsgRegisterRes, readMsgRegisterRes, registerResFrom, registerResForm),
  'HatEventer.MsgQueryReq': codec(writeQueryData, readQueryData, queryDataFrom, queryDataForm),
  'HatEventer.QueryData': codec(writeQueryData, readQueryData, queryDataFrom, queryDataForm),
  'HatEventer.MsgQueryRes': eventList,
  'HatEventer.MsgNotify': eventList,
  'HatSyncer.MsgEvents': eventList,
  'HatEventer.Event': codec(writeEvent, readEvent, eventFrom, eventForm),
  'HatEventer.RegisterEvent': codec(writeRegisterEvent, readRegisterEvent, registerEventFrom, registerEventForm),
  'HatEventer.EventPayload': codec(writePayload, readPayload, payloadFrom, payloadForm),
  'HatEventer.Timestamp': codec(writeTimestamp, readTimestamp, (v) => v as { s: number; us: number }, same),
  'HatEventer.EventId': codec(writeEventId, readEventId, (v) => v as { server: number; session: number; instance: number }, same),
  'HatSyncer.MsgReq': codec(writeSyncerMsgReq, readSyncerMsgReq, (v) => v as never, same),
  'HatSyncer.MsgSynced': none,
  'HatSyncer.MsgFlushReq': none,
  'HatSyncer.MsgFlushRes': none,
  'HatPing.MsgPing': none,
  'HatPing.MsgPong': none,
  'Hat.Data': codec(writeSbsData, readSbsData, sbsDataFrom, sbsDataForm),
  'Hat.Msg': codec(
    writeHatMsg, readHatMsg,
    (v) => {
      const o = v as { data: unknown } & Record<string, unknown>;
      const d = sbsDataFrom(o.data);
      return { ...(o as never as { id: number; first: number; owner: boolean; token: boolean; last: boolean }), module: d.module, type: d.type, data: d.data };
    },
    (m) => ({ id: m.id, first: m.first, owner: m.owner, token: m.token, last: m.last, data: sbsDataForm(m) }),
  ),
};

const typed = sbsVectors.cases.filter((c) => c.group !== 'primitive');

describe('eventer-sbs.json typed cases', () => {
  it('covers every typed case with a codec', () => {
    const missing = typed.filter((c) => !codecs[`${c.sbs_module}.${c.sbs_type}`]).map((c) => c.name);
    expect(missing).toEqual([]);
    expect(typed.length).toBeGreaterThan(50);
  });

  it.each(typed.map((c) => [c.name, c] as const))('%s decodes to its value', (_name, c) => {
    const r = new SbsReader(unhex(c.hex));
    const value = codecs[`${c.sbs_module}.${c.sbs_type}`]!.read(r);
    expect(r.remaining).toBe(0);
    expect(value).toEqual(c.value);
  });

  it.each(typed.map((c) => [c.name, c] as const))('%s encodes to its bytes', (_name, c) => {
    const w = new SbsWriter(8);
    codecs[`${c.sbs_module}.${c.sbs_type}`]!.write(w, c.value);
    expect(hex(w.finish())).toBe(c.hex);
  });
});

// Cases whose Python JSON value survives a trip through JS numbers (the float case does not:
// JS has no 1.0 distinct from 1, and 123456789012345678 exceeds 2^53; the kept text covers it).
const jsonCases = typed.filter((c) => c.json_payload_data !== undefined && c.name !== 'register_req_json_floats');

describe('Python JSON text form', () => {
  it.each(jsonCases.map((c) => [c.name, c] as const))('%s: the value prints as the recorded text', (_name, c) => {
    const text = ((c.value as { payload: [string, [string, string]] }[])[0]!.payload[1][1]);
    expect(pythonJsonText(c.json_payload_data!.data as JsonValue)).toBe(text);
  });
});

function primitiveCodec(c: SbsCase): { encode(w: SbsWriter): void; decode(r: SbsReader): unknown; expected: unknown } {
  const v = c.value as never;
  switch (c.sbs_type) {
    case 'I': {
      const big = typeof v === 'object' ? BigInt((v as { $int: string }).$int) : BigInt(v as number);
      return { encode: (w) => w.bigint(big), decode: (r) => BigInt(r.integerValue()), expected: big };
    }
    case 'F': {
      const repr = (v as { $float: string }).$float;
      const f = repr === 'inf' ? Infinity : repr === '-inf' ? -Infinity : Number(repr);
      return { encode: (w) => w.float(f), decode: (r) => r.float(), expected: f };
    }
    case 'S':
      return { encode: (w) => w.string(v), decode: (r) => r.string(), expected: v };
    case 'B': {
      const b = unhex((v as { $bytes: string }).$bytes);
      return { encode: (w) => w.bytes(b), decode: (r) => r.bytesCopy(), expected: b };
    }
    case 'Bo':
      return { encode: (w) => w.boolean(v), decode: (r) => r.boolean(), expected: v };
    case 'N':
      return { encode: (w) => w.none(), decode: (r) => r.none(), expected: null };
    case 'O': {
      const [kind, x] = v as [string, number];
      return {
        encode: (w) => (kind === 'none' ? w.choice(0) : (w.choice(1), w.integer(x))),
        decode: (r) => (r.choice(2, 'O') === 0 ? ['none', null] : ['value', r.integer()]),
        expected: v,
      };
    }
    case 'A': {
      const xs = v as number[];
      return {
        encode: (w) => {
          w.arrayLength(xs.length);
          for (const x of xs) w.integer(x);
        },
        decode: (r) => Array.from({ length: r.arrayLength() }, () => r.integer()),
        expected: xs,
      };
    }
    default:
      throw new Error(`unknown primitive ${c.sbs_type}`);
  }
}

// The two integers beyond int64 come from the pure-Python serializer only; the C serializer
// (what wheels use) refuses them, and so do we, with a precise error.
const beyondInt64 = (c: SbsCase): boolean => c.sbs_type === 'I' && typeof c.value === 'object' && !!c.note?.includes('C serializer cannot');
const primitives = sbsVectors.cases.filter((c) => c.group === 'primitive');

describe('eventer-sbs.json primitive cases', () => {
  it.each(primitives.filter((c) => !beyondInt64(c)).map((c) => [c.name, c] as const))('%s round-trips byte-exactly', (_name, c) => {
    const p = primitiveCodec(c);
    const w = new SbsWriter(4);
    p.encode(w);
    expect(hex(w.finish())).toBe(c.hex);
    const r = new SbsReader(unhex(c.hex));
    const value = p.decode(r);
    expect(r.remaining).toBe(0);
    if (typeof p.expected === 'number') expect(Object.is(value, p.expected)).toBe(true);
    else expect(value).toEqual(p.expected);
  });

  it.each(primitives.filter(beyondInt64).map((c) => [c.name, c] as const))('%s is refused as beyond int64', (_name, c) => {
    const p = primitiveCodec(c);
    expect(() => p.encode(new SbsWriter())).toThrowError(expect.objectContaining({ kind: 'integer-overflow' }) as never);
    expect(() => new SbsReader(unhex(c.hex)).bigint()).toThrowError(SbsError);
    expect(() => new SbsReader(unhex(c.hex)).integer()).toThrowError(/int64|safe/);
  });
});
