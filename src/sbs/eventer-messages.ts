// The HatEventer message types (docs/protocol.md, "Messages") on top of the record codecs.
import type { Event, RegisterEvent } from '../common/types.ts';
import { SbsReader } from './reader.ts';
import { SbsWriter } from './writer.ts';
import { readEvent, readEventTypes, readRegisterEvent, writeEvent, writeEventTypes, writeRegisterEvent } from './event-codec.ts';

export const EVENTER_MODULE = 'HatEventer';

export const EventerMsg = {
  subscribe: 'MsgSubscribe',
  notify: 'MsgNotify',
  registerReq: 'MsgRegisterReq',
  registerRes: 'MsgRegisterRes',
  queryReq: 'MsgQueryReq',
  queryRes: 'MsgQueryRes',
} as const;

/** MsgSubscribe is `Array(EventType)`. */
export const writeMsgSubscribe = writeEventTypes;
export const readMsgSubscribe = readEventTypes;

export function writeMsgRegisterReq(w: SbsWriter, events: readonly RegisterEvent[]): void {
  w.arrayLength(events.length);
  for (const e of events) writeRegisterEvent(w, e);
}

export function readMsgRegisterReq(r: SbsReader): RegisterEvent[] {
  const count = r.arrayLength(3); // a RegisterEvent takes at least 3 bytes
  const events = new Array<RegisterEvent>(count);
  for (let i = 0; i < count; i++) events[i] = readRegisterEvent(r);
  return events;
}

/** `Array(Choice { event: Event  failure: None })`; `null` is a failure. */
export function writeMsgRegisterRes(w: SbsWriter, results: readonly (Event | null)[]): void {
  w.arrayLength(results.length);
  for (const e of results) {
    if (e === null) w.choice(1);
    else {
      w.choice(0);
      writeEvent(w, e);
    }
  }
}

export function readMsgRegisterRes(r: SbsReader): (Event | null)[] {
  const count = r.arrayLength();
  const results = new Array<Event | null>(count);
  for (let i = 0; i < count; i++) {
    results[i] = r.choice(2, 'MsgRegisterRes entry') === 0 ? readEvent(r) : null;
  }
  return results;
}

