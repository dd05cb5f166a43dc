// The HatSyncer message types of hat-event 0.8.0-0.8.5 (docs/protocol.md, "Syncer").
import type { EventId } from '../common/types.ts';
import { SbsReader } from './reader.ts';
import { SbsWriter } from './writer.ts';
import { readEventId, writeEventId } from './event-codec.ts';

export const SYNCER_MODULE = 'HatSyncer';

/** MsgEvents is `Array(HatEventer.Event)` (event-codec `writeEvents`/`readEvents`); the rest are None. */
export const SyncerMsg = {
  req: 'MsgReq',
  events: 'MsgEvents',
  synced: 'MsgSynced',
  flushReq: 'MsgFlushReq',
  flushRes: 'MsgFlushRes',
} as const;

export interface SyncerMsgReq {
  lastEventId: EventId;
  clientName: string;
}

export function writeSyncerMsgReq(w: SbsWriter, msg: SyncerMsgReq): void {
  writeEventId(w, msg.lastEventId);
  w.string(msg.clientName);
}

export function readSyncerMsgReq(r: SbsReader): SyncerMsgReq {
  const lastEventId = readEventId(r);
  return { lastEventId, clientName: r.string() };
}
