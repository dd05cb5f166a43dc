// The recorded client frames of all nine sessions, replayed in order against our server, which
// must answer with the recorded server frames. Our server is assembled as the reference was run:
// LMDB backend, engine (server id 1, no modules), Syncer server and an eventer server with one
// eventer client that registers the user events; the last session restarts it on the same file.
// The ids, types, payloads, source timestamps, envelopes and the order of everything come out as
// recorded. What legitimately differs, and is normalised:
// - each event's `timestamp` (the wall clock of the run): a recorded MsgEvents frame is encoded
//   again with our timestamps in place of the recorded ones, and then compared byte for byte;
// - the chatter ping period is 5 s instead of Hat's 20 s, so idle_ping takes 5 s, not 20;
// - flushes happen when the next recorded frame needs them (backend.flush()) instead of every
//   0.2 s, which fixes which sessions one flush holds, as it happened in the recording.
import { describe, expect, it } from 'vitest';
import type { Event, EventId } from '../../src/common/types.ts';
import { eventIdsEqual, eventIdKey } from '../../src/common/event-id.ts';
import { openLmdbBackend, type LmdbBackend } from '../../src/backends/lmdb/backend.ts';
import { createEngine, type Engine } from '../../src/engine/index.ts';
import { createEventerServer, type EventerServer } from '../../src/eventer/server.ts';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { createSyncerServer, type SyncerServer } from '../../src/syncer/server.ts';
import { SbsReader } from '../../src/sbs/reader.ts';
import { readEvents } from '../../src/sbs/event-codec.ts';
import { rawConnect } from '../chatter/helpers.ts';
import { hex, unhex } from '../helpers/vectors.ts';
import { lmdbConf, logLines, captureLogger, tempDbPath, until } from './helpers.ts';
import { capture, decodeFrame, eventsOf, FrameCollector, recordedFrameWith, toServer, type Frame, type RecordedConnection } from './replay.ts';

const PING_SECONDS = 5;

interface Run {
  backend: LmdbBackend;
  engine: Engine;
  syncer: SyncerServer;
  eventer: EventerServer | null;
  eventerClient: EventerClient | null;
  /** every event the engine stored */
  stored: Event[];
  stopping: Promise<void> | null;
}

const log = captureLogger('hat.event');

async function startRun(dbPath: string, withEventer: boolean): Promise<Run> {
  const backend = await openLmdbBackend(lmdbConf(dbPath, 3600), { cleanup: false });
  const engine = await createEngine({ server_id: 1, modules: [] }, backend);
  const stored: Event[] = [];
  engine.onEvents((events) => stored.push(...events));
  const syncer = await createSyncerServer('tcp+sbs://127.0.0.1:0', backend, engine, { logger: log, pingTimeout: PING_SECONDS });
  const eventer = withEventer ? await createEventerServer(engine, 'tcp+sbs://127.0.0.1:0', {}) : null;
  const eventerClient = eventer ? await connectEventer(eventer.addresses[0]!) : null;
  return { backend, engine, syncer, eventer, eventerClient, stored, stopping: null };
}

/** The reference runner's stop: eventer server, engine (STOPPED), backend flush, Syncer flush, Syncer, backend. */
function stop(run: Run): Promise<void> {
  run.stopping ??= (async () => {
    await run.eventer?.close();
    await run.engine.close();
    await run.syncer.flushClients();
    await run.syncer.close();
    await run.backend.close();
    await run.eventerClient?.close();
  })();
  return run.stopping;
}

const holds = (run: Run, id: EventId): boolean => run.stored.some((e) => eventIdsEqual(e.id, id));

/**
 * Makes the server hold and flush the events of a recorded MsgEvents frame: user events are
 * registered through the eventer client (and must get the recorded ids); the server's own
 * (engine, eventer and syncer status events) come by themselves.
 */
async function ensure(run: Run, events: Event[]): Promise<void> {
  const last = events.at(-1)!.id;
  if (!holds(run, last)) {
    if (events.every((e) => e.type[0] === 'capture')) {
      const registered = await run.eventerClient!.registerWithResponse(
        events.map(({ type, sourceTimestamp, payload }) => ({ type, sourceTimestamp, payload })),
      );
      expect(registered.map((e) => e && eventIdKey(e.id))).toEqual(events.map((e) => eventIdKey(e.id)));
    } else {
      await until(() => holds(run, last), 5000, `the server registering ${eventIdKey(last)}`);
    }
  }
  await run.backend.flush();
}

/** Plays one recorded connection; returns our server's frames and the expected ones. */
async function replay(run: Run, conn: RecordedConnection): Promise<{ ours: string[]; expected: string[]; open: boolean }> {
  const { frames } = conn;
  const peer = await rawConnect(run.syncer.addresses[0]!);
  const got = new FrameCollector();
  peer.socket.on('data', (chunk: Buffer) => got.push(chunk));
  let ended = false;
  void peer.ended.then(() => (ended = true));
  const synced = frames.findIndex((f) => f.decoded.type === 'MsgSynced');
  let serverFrames = 0;
  for (const [i, f] of frames.entries()) {
    if (toServer(f)) {
      await until(() => got.frames.length >= serverFrames, 5000, `frame ${i}`);
      if (i === 0 && synced > 0) {
        // The backlog is what the server held, flushed, when the request came.
        for (const g of frames.slice(1, synced)) if (g.decoded.type === 'MsgEvents') await ensure(run, eventsOf(g));
      }
      peer.socket.write(unhex(f.hex));
      continue;
    }
    if (f.decoded.type === 'MsgEvents' && i > synced) {
      const events = eventsOf(f);
      if (events.some((e) => e.type.join('/') === 'event/engine' && e.payload?.type === 'json' && e.payload.data === 'STOPPED')) void stop(run);
      else await ensure(run, events);
    }
    serverFrames += 1;
    await until(() => got.frames.length >= serverFrames, PING_SECONDS * 1000 + 5000, `server frame ${i} (${f.decoded.type})`);
  }
  let open = true;
  if (conn.eof[0]!.direction === 'server->client') {
    await peer.ended;
  } else {
    await new Promise((r) => setTimeout(r, 300)); // nothing more comes, and the server keeps the connection
    open = !ended;
    peer.socket.end();
    await peer.ended;
  }
  const expected = frames.filter((f) => !toServer(f)).map((f, i) => expectedBytes(f, got.frames[i]));
  return { ours: got.frames.map(hex), expected, open };
}

/** The recorded frame, with our event timestamps where it carries events. */
function expectedBytes(f: Frame, ours: Uint8Array | undefined): string {
  if (f.decoded.type !== 'MsgEvents' || ours === undefined) return f.hex;
  const msg = decodeFrame(ours);
  if (msg.type !== 'MsgEvents') return f.hex;
  const timestamps = readEvents(new SbsReader(msg.data)).map((e) => e.timestamp);
  const recorded = eventsOf(f);
  if (timestamps.length !== recorded.length) return f.hex;
  return recordedFrameWith(f, recorded.map((e, i) => ({ ...e, timestamp: timestamps[i]! })));
}

describe('recorded client frames against our server', () => {
  it('answers all nine sessions, in order, with the recorded server frames', { timeout: 60_000 }, async () => {
    const dbPath = tempDbPath();
    let run = await startRun(dbPath, true);
    try {
      for (const session of capture.sessions) {
        if (session.name === 'restart_stop') run = await startRun(dbPath, false);
        log.lines.length = 0;
        const { ours, expected, open } = await replay(run, session.connections[0]!);
        expect(ours, session.name).toEqual(expected);
        const lines = logLines(log.lines);
        if (session.name.startsWith('bad_')) {
          expect(lines.filter((l) => l.includes('closing syncer client connection')), session.name).toHaveLength(1);
        } else {
          expect(lines.filter((l) => l.startsWith('warning') || l.startsWith('error')), session.name).toEqual([]);
        }
        if (session.name === 'unsolicited_flush_res') expect(open).toBe(true);
        if (run.stopping) {
          await run.stopping;
          continue;
        }
        // The client's leaving is registered (its status list empty again) before the next session.
        await until(() => run.syncer.clients.length === 0);
        await until(() => {
          const status = run.stored.filter((e) => e.type.join('/') === 'event/syncer/server').at(-1);
          return status?.payload?.type === 'json' && JSON.stringify(status.payload.data) === '[]';
        });
      }
      const reasons = logLines(log.lines);
      expect(reasons.join('\n')).not.toContain('did not confirm');
    } finally {
      await stop(run).catch(() => undefined);
    }
  });
});

