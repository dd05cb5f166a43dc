// Conversions between the value rendering of vectors/eventer-sbs.json (choices as
// [entry, value], bytes as {$bytes: hex}, big integers as {$int}) and our data model.
import { readFileSync } from 'node:fs';
import type { Event, EventPayload, RegisterEvent, SbsData, Timestamp } from '../../src/common/types.ts';
import type { CompleteQueryData } from '../../src/common/query-data.ts';
import { jsonPayloadText } from '../../src/common/json-payload.ts';
import { jsonPayloadFromText } from '../../src/common/json-payload.ts';

/** Copies of the reference vectors (see test/fixtures/vectors/README.md). */
export const VECTORS_DIR = new URL('../fixtures/vectors/', import.meta.url).pathname;

export interface SbsCase {
  name: string;
  group: string;
  sbs_module: string;
  sbs_type: string;
  value: unknown;
  hex: string;
  note?: string;
  json_payload_data?: { data: unknown };
}

export interface ChatterFrameCase {
  name: string;
  msg: { id: number; first: number; owner: boolean; token: boolean; last: boolean; data: { module: Choice; type: string; data: { $bytes?: string; $bytes_len?: number } } };
  hex?: string;
  hex_prefix?: string;
  length?: number;
  sha256?: string;
}

export const sbsVectors = JSON.parse(readFileSync(`${VECTORS_DIR}/eventer-sbs.json`, 'utf8')) as {
  cases: SbsCase[];
  chatter_frames: ChatterFrameCase[];
};

type Choice = [string, unknown];
type Obj = Record<string, unknown>;

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

const opt = <T>(c: unknown, f: (v: unknown) => T): T | null => ((c as Choice)[0] === 'none' ? null : f((c as Choice)[1]));
const toOpt = <T>(v: T | null | undefined, f: (v: T) => unknown): Choice => (v == null ? ['none', null] : ['value', f(v)]);
const bytesOf = (v: unknown): Uint8Array => unhex((v as { $bytes: string }).$bytes);
const bytesForm = (b: Uint8Array): unknown => ({ $bytes: hex(b) });

export const timestampFrom = (v: unknown): Timestamp => ({ s: (v as Obj).s as number, us: (v as Obj).us as number });

export function sbsDataFrom(v: unknown): SbsData {
  const o = v as Obj;
  return { module: opt(o.module, (m) => m as string), type: o.type as string, data: bytesOf(o.data) };
}
export const sbsDataForm = (d: SbsData): unknown => ({ module: toOpt(d.module, (m) => m), type: d.type, data: bytesForm(d.data) });

export function payloadFrom(v: unknown): EventPayload {
  const [kind, data] = v as Choice;
  if (kind === 'binary') return { type: 'binary', data: bytesOf(data) };
  if (kind === 'json') return jsonPayloadFromText(data as string);
  return { type: 'sbs', data: sbsDataFrom(data) };
}

export function payloadForm(p: EventPayload): unknown {
  if (p.type === 'binary') return ['binary', bytesForm(p.data)];
  if (p.type === 'json') return ['json', jsonPayloadText(p)];
  return ['sbs', sbsDataForm(p.data)];
}

export function eventFrom(v: unknown): Event {
  const o = v as Obj;
  return {
    id: o.id as Event['id'],
    type: o.type as string[],
    timestamp: timestampFrom(o.timestamp),
    sourceTimestamp: opt(o.sourceTimestamp, timestampFrom),
    payload: opt(o.payload, payloadFrom),
  };
}

export function eventForm(e: Event): unknown {
  return {
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    sourceTimestamp: toOpt(e.sourceTimestamp, (t) => t),
    payload: toOpt(e.payload, payloadForm),
  };
}

export function registerEventFrom(v: unknown): RegisterEvent {
  const o = v as Obj;
  return { type: o.type as string[], sourceTimestamp: opt(o.sourceTimestamp, timestampFrom), payload: opt(o.payload, payloadFrom) };
}

export function registerEventForm(e: RegisterEvent): unknown {
  return { type: e.type, sourceTimestamp: toOpt(e.sourceTimestamp, (t) => t), payload: toOpt(e.payload, payloadForm) };
}

export function queryDataFrom(v: unknown): CompleteQueryData {
  const o = v as Obj;
  return {
    serverId: opt(o.serverId, (x) => x as number),
    ids: opt(o.ids, (x) => x as Event['id'][]),
    types: opt(o.types, (x) => x as string[][]),
    tFrom: opt(o.tFrom, timestampFrom),
    tTo: opt(o.tTo, timestampFrom),
    sourceTFrom: opt(o.sourceTFrom, timestampFrom),
    sourceTTo: opt(o.sourceTTo, timestampFrom),
    payload: opt(o.payload, payloadFrom),
    order: (o.order as Choice)[0] as CompleteQueryData['order'],
    orderBy: (o.orderBy as Choice)[0] as CompleteQueryData['orderBy'],
    uniqueType: o.uniqueType as boolean,
    maxResults: opt(o.maxResults, (x) => x as number),
  };
}

export function queryDataForm(q: CompleteQueryData): unknown {
  const same = <T>(x: T): T => x;
  return {
    serverId: toOpt(q.serverId, same),
    ids: toOpt(q.ids, same),
    types: toOpt(q.types, same),
    tFrom: toOpt(q.tFrom, same),
    tTo: toOpt(q.tTo, same),
    sourceTFrom: toOpt(q.sourceTFrom, same),
    sourceTTo: toOpt(q.sourceTTo, same),
    payload: toOpt(q.payload, payloadForm),
    order: [q.order, null],
    orderBy: [q.orderBy, null],
    uniqueType: q.uniqueType,
    maxResults: toOpt(q.maxResults, same),
  };
}

export const registerResFrom = (v: unknown): (Event | null)[] =>
  (v as Choice[]).map(([kind, e]) => (kind === 'event' ? eventFrom(e) : null));
export const registerResForm = (r: (Event | null)[]): unknown =>
  r.map((e) => (e === null ? ['failure', null] : ['event', eventForm(e)]));
