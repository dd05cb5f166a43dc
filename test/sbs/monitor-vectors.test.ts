// Every HatMonitor value of vectors/monitor-sbs.json decodes to the recorded value and encodes to
// the recorded bytes; every recorded frame (chatter_frames and the four sessions) parses down to
// its inner value and is rebuilt byte for byte (docs/protocol.md, "Messages"; test/fixtures/vectors/README.md).
import { describe, expect, it } from 'vitest';
import { SbsReader } from '../../src/sbs/reader.ts';
import { encodeAlone, SbsWriter } from '../../src/sbs/writer.ts';
import { readHatMsg } from '../../src/sbs/hat-messages.ts';
import { encodeFrame, FrameDecoder } from '../../src/chatter/framing.ts';
import { HAT_MONITOR_TYPES } from '../../src/sbs/hat-monitor-types.ts';
import {
  MONITOR_MODULE, readBlessingReq, readBlessingRes, readComponentInfo, readMsgClient, readMsgMaster, readMsgServer,
  readMsgSlave, writeBlessingReq, writeBlessingRes, writeComponentInfo, writeMsgClient, writeMsgMaster, writeMsgServer,
  writeMsgSlave,
} from '../../src/sbs/monitor-messages.ts';
import { pythonJsonText } from '../../src/common/json-payload.ts';
import type { JsonValue } from '../../src/common/types.ts';
import { hex, unhex } from '../helpers/vectors.ts';
import {
  blessingReqFrom, blessingResFrom, componentInfoFrom, monitorVectors, msgClientFrom, msgMasterFrom, msgServerFrom,
  msgSlaveFrom,
} from '../helpers/monitor-vectors.ts';

interface Codec {
  from(v: unknown): unknown;
  write(w: SbsWriter, v: unknown): void;
  read(r: SbsReader): unknown;
}

function codec<T>(from: (v: unknown) => T, write: (w: SbsWriter, v: T) => void, read: (r: SbsReader) => T): Codec {
  return { from, write: write as (w: SbsWriter, v: unknown) => void, read };
}

const codecs: Record<string, Codec> = {
  BlessingReq: codec(blessingReqFrom, writeBlessingReq, readBlessingReq),
  BlessingRes: codec(blessingResFrom, writeBlessingRes, readBlessingRes),
  ComponentInfo: codec(componentInfoFrom, writeComponentInfo, readComponentInfo),
  MsgClient: codec(msgClientFrom, writeMsgClient, readMsgClient),
  MsgServer: codec(msgServerFrom, writeMsgServer, readMsgServer),
  MsgSlave: codec(msgSlaveFrom, writeMsgSlave, readMsgSlave),
  MsgMaster: codec(msgMasterFrom, writeMsgMaster, readMsgMaster),
  MsgClose: codec(() => null, () => undefined, () => null),
};

const decodeAll = (c: Codec, bytes: Uint8Array): unknown => {
  const r = new SbsReader(bytes);
  const value = c.read(r);
  r.expectEnd('the value');
  return value;
};

describe('monitor-sbs.json cases', () => {
  const cases = monitorVectors.cases;

  it('covers all 22 cases and every HatMonitor type', () => {
    expect(cases.length).toBe(22);
    expect(new Set(cases.map((c) => c.sbs_type))).toEqual(new Set(Object.keys(codecs)));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s decodes to its value and encodes to its bytes', (_name, c) => {
    const codecOf = codecs[c.sbs_type]!;
    const value = codecOf.from(c.value);
    expect(decodeAll(codecOf, unhex(c.hex))).toEqual(value);
    expect(hex(encodeAlone(value, codecOf.write))).toBe(c.hex);
  });

  it.each(cases.filter((c) => c.data_json !== undefined).map((c) => [c.name, c] as const))(
    '%s carries its data as the Python JSON text of the value', (_name, c) => {
      expect((c.value as { data: string }).data).toBe(pythonJsonText(c.data_json as JsonValue));
    },
  );

  it('keeps integers past 2^53 exact as bigint, and smaller ones as numbers', () => {
    const info = decodeAll(codecs.ComponentInfo!, unhex(cases.find((c) => c.name === 'component_info_unicode_large_ids')!.hex)) as {
      cid: unknown; mid: unknown; blessingReq: { token: unknown };
    };
    expect(info.cid).toBe(2n ** 53n + 1n);
    expect(info.mid).toBe(2 ** 31);
    expect(info.blessingReq.token).toBe(2n ** 63n - 1n);
  });
});

/** Splits a recorded byte stream into frame bodies, decodes envelope and inner value, rebuilds the frame. */
function roundTripFrame(bytes: Uint8Array): { type: string; inner: unknown; rebuilt: string } {
  const bodies: Uint8Array[] = [];
  new FrameDecoder().push(bytes, (b) => (bodies.push(Uint8Array.prototype.slice.call(b)), true));
  expect(bodies.length).toBe(1);
  const msg = readHatMsg(new SbsReader(bodies[0]!));
  expect(HAT_MONITOR_TYPES.get(msg.module ?? '')?.has(msg.type)).toBe(true);
  const c = msg.module === MONITOR_MODULE ? codecs[msg.type]! : codecs.MsgClose!; // pings are None too
  const inner = decodeAll(c, msg.data);
  const rebuilt = encodeFrame(msg, msg.module, msg.type, (w) => c.write(w, inner));
  return { type: `${msg.module}.${msg.type}`, inner, rebuilt: hex(rebuilt) };
}

describe('monitor-sbs.json recorded frames', () => {
  it.each(monitorVectors.chatter_frames.map((f) => [f.name, f] as const))('%s parses to its value and rebuilds', (_name, f) => {
    const { type, inner, rebuilt } = roundTripFrame(unhex(f.hex));
    expect(type).toBe(`${(f.msg.data.module[1] as string)}.${f.msg.data.type}`);
    const codecOf = f.msg.data.module[1] === MONITOR_MODULE ? codecs[f.msg.data.type]! : codecs.MsgClose!;
    expect(inner).toEqual(codecOf.from(f.decoded));
    expect(rebuilt).toBe(f.hex);
  });

  it.each(monitorVectors.sessions.map((s) => [s.name, s] as const))('session %s: every frame, both directions', (_name, s) => {
    const directions = new Set<string>();
    for (const f of s.frames) {
      const { type, inner, rebuilt } = roundTripFrame(unhex(f.hex));
      expect(type).toBe(f.type);
      expect(inner).toEqual(codecs[f.type.split('.')[1]!]!.from(f.decoded));
      expect(rebuilt).toBe(f.hex);
      directions.add(f.direction);
    }
    expect(directions.size).toBe(2);
  });
});
