// The HatMonitor message types of hat-monitor 0.6.11-0.7.2 (docs/protocol.md, "Messages"). Integers are
// int64 on the wire: ids and tokens past 2^53 decode as bigint, smaller ones as numbers, so one
// value always has one form and `===` compares them.
import { readString, SbsReader } from './reader.ts';
import { SbsWriter, writeString } from './writer.ts';

export const MONITOR_MODULE = 'HatMonitor';

export const MonitorMsg = {
  client: 'MsgClient',
  server: 'MsgServer',
  close: 'MsgClose',
  slave: 'MsgSlave',
  master: 'MsgMaster',
} as const;

/** An SBS Integer: a number within ±(2^53 − 1), else a bigint (int64). */
export type SbsInteger = number | bigint;

export interface BlessingReq {
  /** Granted by the master; null means "you may not run". */
  token: SbsInteger | null;
  /** Master wall clock at the grant, seconds since the epoch; null with no token. */
  timestamp: number | null;
}

export interface BlessingRes {
  /** The request token echoed while running, null otherwise. */
  token: SbsInteger | null;
  ready: boolean;
}

/** `ComponentInfo` as on the wire: `data` is JSON text. */
export interface ComponentInfoRecord {
  cid: SbsInteger;
  mid: SbsInteger;
  name: string | null;
  group: string | null;
  data: string;
  rank: SbsInteger;
  blessingReq: BlessingReq;
  blessingRes: BlessingRes;
}

export interface MsgClient {
  name: string;
  group: string;
  /** JSON text. */
  data: string;
  blessingRes: BlessingRes;
}

export interface MsgServer {
  cid: SbsInteger;
  mid: SbsInteger;
  components: ComponentInfoRecord[];
}

export interface MsgSlave {
  components: ComponentInfoRecord[];
}

export interface MsgMaster {
  mid: SbsInteger;
  components: ComponentInfoRecord[];
}

export function writeSbsInteger(w: SbsWriter, value: SbsInteger): void {
  if (typeof value === 'bigint') w.bigint(value);
  else w.integer(value);
}

export function readSbsInteger(r: SbsReader): SbsInteger {
  return r.integerValue();
}

export function writeBlessingReq(w: SbsWriter, req: BlessingReq): void {
  w.optional(req.token, writeSbsInteger);
  w.optional(req.timestamp, writeFloat);
}

export function readBlessingReq(r: SbsReader): BlessingReq {
  const token = r.optional('Integer', readSbsInteger);
  return { token, timestamp: r.optional('Float', readFloat) };
}

export function writeBlessingRes(w: SbsWriter, res: BlessingRes): void {
  w.optional(res.token, writeSbsInteger);
  w.boolean(res.ready);
}

export function readBlessingRes(r: SbsReader): BlessingRes {
  const token = r.optional('Integer', readSbsInteger);
  return { token, ready: r.boolean() };
}

export function writeComponentInfo(w: SbsWriter, info: ComponentInfoRecord): void {
  writeSbsInteger(w, info.cid);
  writeSbsInteger(w, info.mid);
  w.optional(info.name, writeString);
  w.optional(info.group, writeString);
  w.string(info.data);
  writeSbsInteger(w, info.rank);
  writeBlessingReq(w, info.blessingReq);
  writeBlessingRes(w, info.blessingRes);
}

export function readComponentInfo(r: SbsReader): ComponentInfoRecord {
  const cid = readSbsInteger(r);
  const mid = readSbsInteger(r);
  const name = r.optional('String', readString);
  const group = r.optional('String', readString);
  const data = r.string();
  const rank = readSbsInteger(r);
  const blessingReq = readBlessingReq(r);
  return { cid, mid, name, group, data, rank, blessingReq, blessingRes: readBlessingRes(r) };
}

export function writeComponentInfos(w: SbsWriter, infos: readonly ComponentInfoRecord[]): void {
  w.arrayLength(infos.length);
  for (const info of infos) writeComponentInfo(w, info);
}

export function readComponentInfos(r: SbsReader): ComponentInfoRecord[] {
  const infos = new Array<ComponentInfoRecord>(r.arrayLength(10)); // an entry takes at least 10 bytes
  for (let i = 0; i < infos.length; i++) infos[i] = readComponentInfo(r);
  return infos;
}

export function writeMsgClient(w: SbsWriter, msg: MsgClient): void {
  w.string(msg.name);
  w.string(msg.group);
  w.string(msg.data);
  writeBlessingRes(w, msg.blessingRes);
}

export function readMsgClient(r: SbsReader): MsgClient {
  const name = r.string();
  const group = r.string();
  const data = r.string();
  return { name, group, data, blessingRes: readBlessingRes(r) };
}

export function writeMsgServer(w: SbsWriter, msg: MsgServer): void {
  writeSbsInteger(w, msg.cid);
  writeSbsInteger(w, msg.mid);
  writeComponentInfos(w, msg.components);
}

export function readMsgServer(r: SbsReader): MsgServer {
  const cid = readSbsInteger(r);
  const mid = readSbsInteger(r);
  return { cid, mid, components: readComponentInfos(r) };
}

export function writeMsgSlave(w: SbsWriter, msg: MsgSlave): void {
  writeComponentInfos(w, msg.components);
}

export function readMsgSlave(r: SbsReader): MsgSlave {
  return { components: readComponentInfos(r) };
}

export function writeMsgMaster(w: SbsWriter, msg: MsgMaster): void {
  writeSbsInteger(w, msg.mid);
  writeComponentInfos(w, msg.components);
}

export function readMsgMaster(r: SbsReader): MsgMaster {
  const mid = readSbsInteger(r);
  return { mid, components: readComponentInfos(r) };
}

const writeFloat = (w: SbsWriter, value: number): void => w.float(value);
const readFloat = (r: SbsReader): number => r.float();
