// The HatSyncer vectors of the reference: every HatSyncer case of eventer-sbs.json, and every
// frame of the nine recorded sessions of syncer-wire-capture.json, decode to the recorded value
// and encode back to the recorded bytes with our codecs and framing.
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../src/chatter/framing.ts';
import { readHatMsg } from '../../src/sbs/hat-messages.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import { SbsWriter } from '../../src/sbs/writer.ts';
import { readEvents, writeEvents } from '../../src/sbs/event-codec.ts';
import { readSyncerMsgReq, SYNCER_MODULE, SyncerMsg, writeSyncerMsgReq, type SyncerMsgReq } from '../../src/sbs/syncer-messages.ts';
import { HAT_EVENT_TYPES } from '../../src/sbs/hat-event-types.ts';
import { eventForm, eventFrom, hex, sbsVectors, unhex } from '../helpers/vectors.ts';
import { capture } from './replay.ts';

interface Codec { write(w: SbsWriter, v: unknown): void; read(r: SbsReader): unknown }

const none: Codec = { write: () => undefined, read: () => null };
const codecs: Record<string, Codec> = {
  [SyncerMsg.req]: { write: (w, v) => writeSyncerMsgReq(w, v as SyncerMsgReq), read: readSyncerMsgReq },
  [SyncerMsg.events]: { write: (w, v) => writeEvents(w, (v as unknown[]).map(eventFrom)), read: (r) => readEvents(r).map(eventForm) },
  [SyncerMsg.synced]: none,
  [SyncerMsg.flushReq]: none,
  [SyncerMsg.flushRes]: none,
  MsgPing: none,
  MsgPong: none,
};

const syncerCases = sbsVectors.cases.filter((c) => c.sbs_module === SYNCER_MODULE);

describe('HatSyncer cases of eventer-sbs.json', () => {
  it('are all here, one per message type at least', () => {
    expect(new Set(syncerCases.map((c) => c.sbs_type))).toEqual(new Set(Object.values(SyncerMsg)));
  });

  it.each(syncerCases.map((c) => [c.name, c] as const))('%s decodes and encodes exactly', (_name, c) => {
    const codec = codecs[c.sbs_type]!;
    const r = new SbsReader(unhex(c.hex));
    expect(codec.read(r)).toEqual(c.value);
    expect(r.remaining).toBe(0);
    const w = new SbsWriter(8);
    codec.write(w, c.value);
    expect(hex(w.finish())).toBe(c.hex);
  });
});

const frames = capture.sessions.flatMap((s) => s.connections.flatMap((c) => c.frames.map((f, i) => [`${s.name} #${i} ${f.decoded.type}`, f] as const)));

describe('frames of syncer-wire-capture.json', () => {
  it('has the nine sessions', () => {
    expect(capture.sessions.map((s) => s.name)).toEqual([
      'backlog', 'tail', 'live', 'bad_first_message', 'bad_message_after_synced', 'unsolicited_flush_res', 'idle_ping', 'stop', 'restart_stop',
    ]);
    expect(frames.length).toBeGreaterThan(60);
  });

  it.each(frames)('%s', (_name, f) => {
    const bodies: Uint8Array[] = [];
    new FrameDecoder().push(unhex(f.hex), (b) => (bodies.push(b), true));
    expect(bodies).toHaveLength(1);
    const msg = readHatMsg(new SbsReader(bodies[0]!));
    expect(HAT_EVENT_TYPES.get(msg.module ?? '')?.has(msg.type)).toBe(true);
    const { id, first, owner, token, last, module, type, data } = f.decoded;
    expect({ id: msg.id, first: msg.first, owner: msg.owner, token: msg.token, last: msg.last, module: msg.module, type: msg.type })
      .toEqual({ id, first, owner, token, last, module, type });
    const r = new SbsReader(msg.data);
    expect(codecs[type]!.read(r)).toEqual(data);
    expect(r.remaining).toBe(0);
    const again = encodeFrame({ id, first, owner, token, last }, module, type, (w) => codecs[type]!.write(w, data));
    expect(hex(again)).toBe(f.hex);
  });
});
