// The chatter frames of vectors/eventer-sbs.json, encoded and decoded byte-exactly, and the
// frame decoder's handling of split, joined, oversized and empty frames.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameError } from '../../src/chatter/framing.ts';
import { readHatMsg } from '../../src/sbs/hat-messages.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import { writeMsgRegisterReq } from '../../src/sbs/eventer-messages.ts';
import { hex, sbsVectors, unhex } from '../helpers/vectors.ts';

const frames = sbsVectors.chatter_frames;

function decodeAll(stream: Uint8Array, chunkSize: number, max?: number): Uint8Array[] {
  const decoder = new FrameDecoder(max);
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += chunkSize) {
    decoder.push(stream.subarray(i, i + chunkSize), (b) => (bodies.push(Uint8Array.prototype.slice.call(b)), true));
  }
  expect(decoder.idle).toBe(true);
  return bodies;
}

describe('chatter frames of eventer-sbs.json', () => {
  it.each(frames.filter((f) => f.hex).map((f) => [f.name, f] as const))('%s encodes and decodes', (_name, f) => {
    const m = f.msg;
    const data = unhex(m.data.data.$bytes!);
    const frame = encodeFrame(m, m.data.module[1] as string, m.data.type, (w) => w.raw(data));
    expect(hex(frame)).toBe(f.hex);

    const [body] = decodeAll(unhex(f.hex!), 3);
    const msg = readHatMsg(new SbsReader(body!));
    expect({ ...msg, data: hex(msg.data) }).toEqual({
      id: m.id, first: m.first, owner: m.owner, token: m.token, last: m.last,
      module: m.data.module[1], type: m.data.type, data: m.data.data.$bytes,
    });
  });

  it('the 2000-event frame has a 2-byte length and the recorded bytes', () => {
    const f = frames.find((x) => x.name === 'client_register_2000_events')!;
    const events = Array.from({ length: 2000 }, (_, i) => ({
      type: ['big', String(i)], sourceTimestamp: { s: 1700000000, us: 123456 },
      payload: { type: 'binary' as const, data: new Uint8Array([0, 1, 2, 0xff]) },
    }));
    const frame = encodeFrame(f.msg, 'HatEventer', 'MsgRegisterReq', (w) => writeMsgRegisterReq(w, events));
    expect(frame.length).toBe(f.length);
    expect(hex(frame.subarray(0, f.hex_prefix!.length / 2))).toBe(f.hex_prefix);
    expect(createHash('sha256').update(frame).digest('hex')).toBe(f.sha256);
    const [body] = decodeAll(frame, 1000);
    expect(body!.length).toBe(frame.length - 3);
  });
});

describe('FrameDecoder', () => {
  const stream = Buffer.concat(frames.filter((f) => f.hex).map((f) => unhex(f.hex!)));
  const count = frames.filter((f) => f.hex).length;

  it.each([1, 2, 7, 64, stream.length])('splits a stream fed in chunks of %i bytes', (size) => {
    const bodies = decodeAll(stream, size);
    expect(bodies).toHaveLength(count);
    // every recorded frame here is under 256 bytes: a 2-byte prefix `01 len`
    expect(bodies.map(hex)).toEqual(frames.filter((f) => f.hex).map((f) => f.hex!.slice(4)));
  });

  it('accepts non-minimal length fields and an empty body', () => {
    const bodies = decodeAll(unhex('0400000002abcd' + '00' + '0100'), 1);
    expect(bodies.map(hex)).toEqual(['abcd', '', '']);
  });

  it('refuses an oversized length as soon as the length field is read, before any body', () => {
    const decoder = new FrameDecoder(1024);
    expect(() => decoder.push(unhex('0204'), () => true)).not.toThrow();
    expect(() => decoder.push(unhex('01'), () => true)).toThrowError(FrameError);
    expect(() => new FrameDecoder().push(unhex('08ffffffffffffffff'), () => true)).toThrowError(/exceeds the maximum of 67108864/);
  });

  it('stops delivering when the consumer says so', () => {
    const decoder = new FrameDecoder();
    let seen = 0;
    decoder.push(stream, () => (seen++, false));
    expect(seen).toBe(1);
  });
});
