// vectors/monitor-sbs.json in our types: choices as [entry, value], big integers as {$int},
// floats as {$float: Python repr}; plus the recorded sessions as frames with their bytes.
import { readFileSync } from 'node:fs';
import { VECTORS_DIR, unhex } from './vectors.ts';
import type {
  BlessingReq, BlessingRes, ComponentInfoRecord, MsgClient, MsgMaster, MsgServer, MsgSlave, SbsInteger,
} from '../../src/sbs/monitor-messages.ts';

type Choice = [string, unknown];
type Obj = Record<string, unknown>;

export interface MonitorCase {
  name: string;
  sbs_type: string;
  value: unknown;
  hex: string;
  data_json?: unknown;
}

export interface SessionFrame {
  t: number;
  direction: 'client->server' | 'server->client';
  id: number;
  type: string;
  decoded: unknown;
  hex: string;
}

export interface Session {
  name: string;
  eof: [number, string][];
  frames: SessionFrame[];
}

export interface RecordedFrame {
  name: string;
  direction: string;
  msg: { id: number; first: number; owner: boolean; token: boolean; last: boolean; data: { module: Choice; type: string; data: { $bytes: string } } };
  decoded: unknown;
  hex: string;
}

export const monitorVectors = JSON.parse(readFileSync(`${VECTORS_DIR}/monitor-sbs.json`, 'utf8')) as {
  cases: MonitorCase[];
  chatter_frames: RecordedFrame[];
  sessions: Session[];
};

export const session = (name: string): Session => {
  const found = monitorVectors.sessions.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no session ${name}`);
  return found;
};

export const recordedFrame = (name: string): RecordedFrame => {
  const found = monitorVectors.chatter_frames.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no chatter frame ${name}`);
  return found;
};

export const frameBytes = (f: { hex: string }): Uint8Array => unhex(f.hex);

const opt = <T>(c: unknown, f: (v: unknown) => T): T | null => ((c as Choice)[0] === 'none' ? null : f((c as Choice)[1]));

export function integerFrom(v: unknown): SbsInteger {
  if (typeof v === 'number') return v;
  return BigInt((v as { $int: string }).$int);
}

const floatFrom = (v: unknown): number => Number((v as { $float: string }).$float);

export const blessingReqFrom = (v: unknown): BlessingReq => ({
  token: opt((v as Obj).token, integerFrom),
  timestamp: opt((v as Obj).timestamp, floatFrom),
});

export const blessingResFrom = (v: unknown): BlessingRes => ({
  token: opt((v as Obj).token, integerFrom),
  ready: (v as Obj).ready as boolean,
});

export function componentInfoFrom(v: unknown): ComponentInfoRecord {
  const o = v as Obj;
  return {
    cid: integerFrom(o.cid),
    mid: integerFrom(o.mid),
    name: opt(o.name, (x) => x as string),
    group: opt(o.group, (x) => x as string),
    data: o.data as string,
    rank: integerFrom(o.rank),
    blessingReq: blessingReqFrom(o.blessingReq),
    blessingRes: blessingResFrom(o.blessingRes),
  };
}

const componentsFrom = (v: unknown): ComponentInfoRecord[] => (v as unknown[]).map(componentInfoFrom);

export const msgClientFrom = (v: unknown): MsgClient => {
  const o = v as Obj;
  return { name: o.name as string, group: o.group as string, data: o.data as string, blessingRes: blessingResFrom(o.blessingRes) };
};

export const msgServerFrom = (v: unknown): MsgServer => {
  const o = v as Obj;
  return { cid: integerFrom(o.cid), mid: integerFrom(o.mid), components: componentsFrom(o.components) };
};

export const msgSlaveFrom = (v: unknown): MsgSlave => ({ components: componentsFrom((v as Obj).components) });

export const msgMasterFrom = (v: unknown): MsgMaster => {
  const o = v as Obj;
  return { mid: integerFrom(o.mid), components: componentsFrom(o.components) };
};
