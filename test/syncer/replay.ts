// The recorded Syncer sessions (vectors/syncer-wire-capture.json) and what both replay
// directions need to read them: frames as they complete on a socket, and re-encoding.
import { readFileSync } from 'node:fs';
import { encodeFrame } from '../../src/chatter/framing.ts';
import { readHatMsg, type HatMsg } from '../../src/sbs/hat-messages.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import { writeEvents } from '../../src/sbs/event-codec.ts';
import type { Event } from '../../src/common/types.ts';
import { eventFrom, hex, VECTORS_DIR } from '../helpers/vectors.ts';

export interface Frame {
  direction: 'client->server' | 'server->client';
  hex: string;
  decoded: { id: number; first: number; owner: boolean; token: boolean; last: boolean; module: string; type: string; data: unknown };
}
export interface RecordedConnection { frames: Frame[]; eof: { direction: string; t_ms: number }[] }
export interface RecordedSession { name: string; description: string; connections: RecordedConnection[] }

export const capture = JSON.parse(readFileSync(`${VECTORS_DIR}/syncer-wire-capture.json`, 'utf8')) as { sessions: RecordedSession[] };

export const toServer = (f: Frame): boolean => f.direction === 'client->server';

/** The recorded events of a MsgEvents frame. */
export const eventsOf = (f: Frame): Event[] => (f.decoded.data as unknown[]).map(eventFrom);

/** Whole frames (prefix and body) as they complete in a byte stream. */
export class FrameCollector {
  readonly frames: Uint8Array[] = [];
  #buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 1 || b.length < 1 + b[0]!) return;
      const m = b[0]!;
      let length = 0;
      for (let i = 1; i <= m; i++) length = length * 256 + b[i]!;
      if (b.length < 1 + m + length) return;
      this.frames.push(new Uint8Array(b.subarray(0, 1 + m + length)));
      this.#buffer = b.subarray(1 + m + length);
    }
  }
}

export function decodeFrame(frame: Uint8Array): HatMsg {
  const m = frame[0]!;
  return readHatMsg(new SbsReader(frame.subarray(1 + m)));
}

/** A recorded frame encoded again with other events in it (same envelope, same order). */
export function recordedFrameWith(f: Frame, events: Event[]): string {
  const { id, first, owner, token, last, module, type } = f.decoded;
  return hex(encodeFrame({ id, first, owner, token, last }, module, type, (w) => writeEvents(w, events)));
}
