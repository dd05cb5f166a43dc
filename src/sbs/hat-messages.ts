// Module `Hat` of hat-chatter (docs/protocol.md, "The envelope and conversations"): the `Msg` envelope around `Data`.
import { readString, SbsReader } from './reader.ts';
import { SbsWriter, writeString } from './writer.ts';

export const HAT_MODULE = 'Hat';

export const HatMsgTypes = { msg: 'Msg', data: 'Data' } as const;

/** Envelope fields of `Hat.Msg` other than its data. */
export interface HatMsgHeader {
  id: number;
  first: number;
  owner: boolean;
  token: boolean;
  last: boolean;
}

/** A decoded `Hat.Msg`; `data` is a view into the input (the encoded inner message). */
export interface HatMsg extends HatMsgHeader {
  module: string | null;
  type: string;
  data: Uint8Array;
}

/** Writes `Hat.Msg` up to and including the length prefix of `data.data`. */
export function writeHatMsgHead(w: SbsWriter, h: HatMsgHeader, module: string | null, type: string, dataLength: number): void {
  w.integer(h.id);
  w.integer(h.first);
  w.boolean(h.owner);
  w.boolean(h.token);
  w.boolean(h.last);
  w.optional(module, writeString);
  w.string(type);
  w.integer(dataLength);
}

export function writeHatMsg(w: SbsWriter, msg: HatMsg): void {
  writeHatMsgHead(w, msg, msg.module, msg.type, msg.data.length);
  w.raw(msg.data);
}

export function readHatMsg(r: SbsReader): HatMsg {
  const id = r.integer();
  const first = r.integer();
  const owner = r.boolean();
  const token = r.boolean();
  const last = r.boolean();
  const module = r.optional('String', readString);
  const type = r.string();
  return { id, first, owner, token, last, module, type, data: r.bytesView() };
}
