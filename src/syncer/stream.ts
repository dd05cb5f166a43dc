// The Syncer client as a library (beyond Hat): a catch-up subscription. `connectSyncer` asks a
// Syncer server for every flushed event of one server id after `lastEventId`, and gives them as
// an async iterable of sessions: first the backlog, then (after `synced`) live, without gap or
// duplicate. Keep `lastEventId` of what you stored and reconnect from it to continue exactly.
//
//   const stream = await connectSyncer('tcp+sbs://127.0.0.1:23013', { clientName: 'archiver', lastEventId });
//   void stream.synced.then(() => log('caught up'));
//   for await (const session of stream) await store(session);   // ends when the connection closes
//
// A flush request from the server is answered once the loop has taken every session received
// before it (the next `next()` call), so the server's "flushed" means "handed to and processed by
// the application". Unread sessions past `maxUnreadBytes` pause reading (TCP back-pressure).
import type { Event, EventId } from '../common/types.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';
import { describeError } from '../common/describe-error.ts';
import { compareEventIds, eventIdKey } from '../common/event-id.ts';
import { QueuedIterator } from '../common/queued-iterator.ts';
import { connect, type TransportOptions } from '../chatter/transport.ts';
import type { ChatterConnection, ChatterMessage, Conversation } from '../chatter/connection.ts';
import { SbsReader } from '../sbs/reader.ts';
import { HAT_EVENT_TYPES } from '../sbs/hat-event-types.ts';
import { readEvents } from '../sbs/event-codec.ts';
import { SYNCER_MODULE, SyncerMsg, writeSyncerMsgReq } from '../sbs/syncer-messages.ts';

export interface SyncerStreamOptions extends Omit<TransportOptions, 'sbsTypes' | 'pemFile'> {
  /** Sent in MsgReq; the server lists it in its status event (a server sends its own id as text). */
  clientName: string;
  /** Events of `lastEventId.server` strictly after this id are streamed. */
  lastEventId: EventId;
  /** Bytes of received sessions not yet taken past which reading pauses. Default 16 MiB. */
  maxUnreadBytes?: number;
}

export interface SyncerStream extends Resource, AsyncIterable<Event[]> {
  /**
   * Resolves when the iteration has taken the whole backlog (the server's MsgSynced); rejects if the
   * stream ends before. Settles only as the stream is iterated.
   */
  readonly synced: Promise<void>;
  readonly isSynced: boolean;
  /** The last id of the sessions taken so far (the requested one before any). */
  readonly lastEventId: EventId;
}

type Item =
  | { kind: 'events'; events: Event[]; bytes: number }
  | { kind: 'synced' }
  | { kind: 'flush'; conversation: Conversation };

export async function connectSyncer(address: string, opts: SyncerStreamOptions): Promise<SyncerStream> {
  const { clientName, lastEventId, logger, maxUnreadBytes = 16 * 1024 * 1024, ...transport } = opts;
  if (typeof clientName !== 'string') throw new TypeError('clientName must be a string');
  for (const key of ['server', 'session', 'instance'] as const) {
    if (!Number.isSafeInteger(lastEventId?.[key]) || lastEventId[key] < 0)
      throw new RangeError(`lastEventId.${key} must be a non-negative integer, got ${lastEventId?.[key]}`);
  }
  if (!(maxUnreadBytes > 0)) throw new RangeError(`maxUnreadBytes must be positive, got ${maxUnreadBytes}`);
  const log = (logger ?? silentLogger()).child('syncer.client');
  const conn = await connect(address, { ...transport, logger: log, sbsTypes: HAT_EVENT_TYPES });
  const stream = new Stream(conn, { ...lastEventId }, maxUnreadBytes, log);
  conn.send(SYNCER_MODULE, SyncerMsg.req, (w) => writeSyncerMsgReq(w, { lastEventId, clientName }));
  return stream;
}

class Stream extends ResourceBase implements SyncerStream {
  readonly synced: Promise<void>;
  readonly #items = new QueuedIterator<Item>();
  #resolveSynced!: () => void;
  #rejectSynced!: (err: Error) => void;
  #syncedReceived = false;
  #isSynced = false;
  /** Last id received (order check) and last id taken by the application. */
  #lastReceived: EventId;
  #lastTaken: EventId;
  #unreadBytes = 0;
  #paused = false;
  readonly #conn: ChatterConnection;
  readonly #requested: EventId;
  readonly #maxUnreadBytes: number;
  readonly #log: Logger;

  constructor(
    conn: ChatterConnection,
    requested: EventId,
    maxUnreadBytes: number,
    log: Logger,
  ) {
    super();
    this.#conn = conn;
    this.#requested = requested;
    this.#maxUnreadBytes = maxUnreadBytes;
    this.#log = log;
    this.#lastReceived = requested;
    this.#lastTaken = requested;
    this.synced = new Promise((resolve, reject) => {
      this.#resolveSynced = resolve;
      this.#rejectSynced = reject;
    });
    this.synced.catch(() => undefined); // a caller that never looks at it gets no unhandled rejection
    conn.setHandler((msg) => this.#onMessage(msg));
    conn.onClose((reason) => void this.lifecycle.fail(new Error(`connection closed: ${reason}`)));
  }

  get isSynced(): boolean {
    return this.#isSynced;
  }

  get lastEventId(): EventId {
    return { ...this.#lastTaken };
  }

  protected override async teardown(): Promise<void> {
    await this.#conn.close();
    this.#items.end(); // what arrived stays readable
    if (!this.#syncedReceived) this.#rejectSynced(this.failure ?? new Error('syncer stream closed before synced'));
  }

  /** One iteration; leaving it early (`break`) closes the stream. */
  [Symbol.asyncIterator](): AsyncIterator<Event[]> {
    return {
      next: () => this.#next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async #next(): Promise<IteratorResult<Event[]>> {
    for (;;) {
      const next = await this.#items.next();
      if (next.done) {
        if (!this.#isSynced) this.#rejectSynced(this.failure ?? new Error('syncer stream closed before synced'));
        return { done: true, value: undefined };
      }
      const item = next.value;
      if (item.kind === 'flush') {
        // Everything received before the request has been taken and processed by now.
        if (this.#conn.isOpen) this.#conn.send(SYNCER_MODULE, SyncerMsg.flushRes, undefined, { conversation: item.conversation, last: true });
        continue;
      }
      if (item.kind === 'synced') {
        this.#isSynced = true;
        this.#resolveSynced();
        continue;
      }
      this.#unreadBytes -= item.bytes;
      if (this.#paused && this.#unreadBytes <= this.#maxUnreadBytes / 2) {
        this.#paused = false;
        this.#conn.resume();
      }
      this.#lastTaken = item.events[item.events.length - 1]!.id;
      return { done: false, value: item.events };
    }
  }

  #onMessage(msg: ChatterMessage): void {
    if (msg.module !== SYNCER_MODULE) {
      this.#reject(`unexpected message ${msg.module ?? ''}.${msg.type}`);
      return;
    }
    switch (msg.type) {
      case SyncerMsg.events:
        this.#onEvents(msg.data);
        return;
      case SyncerMsg.synced:
        if (this.#syncedReceived) {
          this.#reject('MsgSynced received twice');
          return;
        }
        this.#syncedReceived = true;
        this.#items.push({ kind: 'synced' });
        return;
      case SyncerMsg.flushReq:
        this.#items.push({ kind: 'flush', conversation: msg.conversation });
        return;
      default:
        this.#reject(`unexpected ${msg.type} from a Syncer server`);
    }
  }

  #onEvents(data: Uint8Array): void {
    let received: Event[];
    try {
      received = readEvents(new SbsReader(data));
    } catch (err) {
      this.#reject(`malformed MsgEvents: ${describeError(err)}`);
      return;
    }
    // [Q] a Hat 0.8 LMDB server can append another server's events of the same session number
    // to a list; they are not what was asked for, and storing them could hide a gap of that server.
    const server = this.#requested.server;
    const events = received.every((e) => e.id.server === server) ? received : received.filter((e) => e.id.server === server);
    if (events.length < received.length) {
      this.#log.debug('events of other servers dropped', { count: received.length - events.length, server_id: server });
    }
    for (const event of events) {
      if (compareEventIds(event.id, this.#lastReceived) <= 0) {
        this.#reject(`events out of order: ${eventIdKey(event.id)} after ${eventIdKey(this.#lastReceived)}`);
        return;
      }
      this.#lastReceived = event.id;
    }
    if (events.length === 0) return;
    this.#items.push({ kind: 'events', events, bytes: data.length });
    this.#unreadBytes += data.length;
    if (!this.#paused && this.#unreadBytes > this.#maxUnreadBytes) {
      this.#paused = true;
      this.#conn.pause();
    }
  }

  #reject(reason: string): void {
    if (!this.isOpen) return;
    this.#log.warning('closing syncer connection', { address: this.#conn.remoteAddress, reason });
    void this.lifecycle.fail(new Error(reason));
  }
}
