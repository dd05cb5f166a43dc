// One Syncer client as the server sees it (docs/protocol.md, Syncer, "What the server does"): wait for MsgReq; join the live
// stream, then read the backlog (so nothing falls between); one MsgEvents per session; MsgSynced;
// live sessions; flush requests; and the close sequences the reference shows on the wire.
import type { Event, EventId } from '../common/types.ts';
import type { Logger } from '../common/logger.ts';
import { ResourceBase } from '../common/resource.ts';
import { describeError } from '../common/describe-error.ts';
import { eventIdKey } from '../common/event-id.ts';
import type { Backend } from '../backends/backend.ts';
import type { ChatterConnection, ChatterMessage } from '../chatter/connection.ts';
import { SbsReader } from '../sbs/reader.ts';
import { encodeAlone } from '../sbs/writer.ts';
import { writeEvents } from '../sbs/event-codec.ts';
import { readSyncerMsgReq, SYNCER_MODULE, SyncerMsg, type SyncerMsgReq } from '../sbs/syncer-messages.ts';
import { SentFilter } from './sent-filter.ts';

/** Bytes per event to size an outgoing buffer once in the common case. */
export const EVENT_SIZE_HINT = 96;

export interface ServerConnectionLimits {
  /** Send-buffer bytes past which the backlog waits for the client to read. */
  backlogHighWater: number;
  /** Live events held while the backlog is read; past it they are read from the backend again. */
  maxQueuedLiveEvents: number;
  /** How long a flush request waits for its MsgFlushRes (ms). */
  flushTimeoutMs: number;
}

/** What a connection needs of its server. */
export interface ConnectionHub {
  readonly backend: Backend;
  readonly limits: ServerConnectionLimits;
  readonly log: Logger;
  /** The client sent MsgReq: it is listed (not synced) and receives live sessions from now on. */
  join(connection: SyncerServerConnection): void;
  /** MsgSynced went out. */
  synced(connection: SyncerServerConnection): void;
  /** The connection closed (after `join` or not). */
  leave(connection: SyncerServerConnection): void;
}

type Phase = 'request' | 'backlog' | 'synced';

export class SyncerServerConnection extends ResourceBase {
  #phase: Phase = 'request';
  #clientName = '';
  #filter: SentFilter | null = null;
  /** Live sessions that arrived during the backlog, sent after MsgSynced (null: not collecting). */
  #queued: Event[][] | null = null;
  #queuedCount = 0;
  #overflowed = false;
  /** Open flush requests by conversation, each resolved by its MsgFlushRes or the close. */
  readonly #flushes = new Map<number, () => void>();
  /** The backlog-then-synced sender, once MsgReq came (it may hold a backend read transaction). */
  #streaming: Promise<void> = Promise.resolve();
  readonly #hub: ConnectionHub;

  constructor(
    readonly conn: ChatterConnection,
    hub: ConnectionHub,
  ) {
    super();
    this.#hub = hub;
    conn.setHandler((msg) => this.#onMessage(msg));
    conn.onClose((reason) => {
      this.#settleFlushes();
      if (this.isOpen) hub.log.debug('syncer client connection closed', { client: this.#describe(), reason });
      void this.lifecycle.fail(new Error(`connection closed: ${reason}`));
    });
  }

  /** The name from MsgReq ('' before it). */
  get clientName(): string {
    return this.#clientName;
  }

  get isSynced(): boolean {
    return this.#phase === 'synced';
  }

  /**
   * One flushed session (the backend's flushed callback). `encoded` is the whole session encoded
   * once for every client that takes all of it.
   */
  live(events: Event[], encoded: () => Uint8Array): void {
    if (this.#phase === 'synced') {
      this.#send(events, encoded);
      return;
    }
    if (this.#queued === null || this.#overflowed) return;
    this.#queued.push(events);
    this.#queuedCount += events.length;
    if (this.#queuedCount > this.#hub.limits.maxQueuedLiveEvents) {
      // Everything flushed is also in the backend: drop the copy and read it again from there.
      this.#hub.log.debug('live events during the backlog exceed the queue; reading them from the backend instead', {
        client: this.#describe(), limit: this.#hub.limits.maxQueuedLiveEvents,
      });
      this.#overflowed = true;
      this.#queued = [];
      this.#queuedCount = 0;
    }
  }

  /**
   * Sends MsgFlushReq and resolves when the client answers it (everything sent before is then
   * in its hands), when the connection closes, or after the flush timeout (logged).
   */
  flush(): Promise<void> {
    if (!this.conn.isOpen) return Promise.resolve();
    let first: number;
    try {
      first = this.conn.send(SYNCER_MODULE, SyncerMsg.flushReq, undefined, { last: false }).first;
    } catch {
      return Promise.resolve(); // closed meanwhile: nothing to wait for
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#hub.log.warning('syncer client did not confirm a flush in time', {
          client: this.#describe(), timeout_ms: this.#hub.limits.flushTimeoutMs,
        });
        this.#flushes.delete(first);
        resolve();
      }, this.#hub.limits.flushTimeoutMs);
      this.#flushes.set(first, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #onMessage(msg: ChatterMessage): void {
    if (msg.module !== SYNCER_MODULE) {
      this.#reject(`unexpected message ${msg.module ?? ''}.${msg.type}`);
      return;
    }
    if (this.#phase === 'request') {
      if (msg.type !== SyncerMsg.req) {
        this.#reject(`the first message must be MsgReq, got ${msg.type}`);
        return;
      }
      let req: SyncerMsgReq;
      try {
        req = readSyncerMsgReq(new SbsReader(msg.data));
        checkEventId(req.lastEventId);
      } catch (err) {
        this.#reject(`malformed MsgReq: ${describeError(err)}`);
        return;
      }
      this.#start(req);
      return;
    }
    if (msg.type !== SyncerMsg.flushRes) {
      this.#reject(`unexpected ${msg.type} after MsgReq (only MsgFlushRes may follow)`);
      return;
    }
    // A response that answers none of our requests is ignored, as the reference does.
    if (!msg.conversation.owner) return;
    this.#flushes.get(msg.conversation.first)?.();
    this.#flushes.delete(msg.conversation.first);
  }

  #start(req: SyncerMsgReq): void {
    this.#clientName = req.clientName;
    this.#filter = new SentFilter(req.lastEventId);
    this.#phase = 'backlog';
    this.#queued = [];
    this.#hub.log.info('syncer client connected', {
      client: this.#describe(), last_event_id: eventIdKey(req.lastEventId),
    });
    this.#hub.join(this); // live sessions from now on, before the backlog is read
    this.#streaming = this.#stream().catch((err: unknown) => {
      if (!this.isOpen) return;
      this.#hub.log.error('syncer backlog failed', { client: this.#describe(), error: describeError(err) });
      void this.lifecycle.fail(err);
    });
  }

  /**
   * The backlog, then MsgSynced. A backend read transaction is never held while waiting for the
   * client: past the high-water mark the query stops, the buffer drains, and the query resumes
   * from the last id sent. The same re-read replaces live sessions that overflowed their queue.
   */
  async #stream(): Promise<void> {
    const filter = this.#filter!;
    for (;;) {
      this.#queued = [];
      this.#queuedCount = 0;
      this.#overflowed = false;
      let full = false;
      for await (const session of this.#hub.backend.queryFlushed(filter.last)) {
        if (!this.isOpen) return;
        this.#send(session);
        if (this.conn.pendingSendBytes > this.#hub.limits.backlogHighWater) {
          full = true;
          break;
        }
      }
      if (!this.isOpen) return;
      if (full) await this.conn.drained();
      else if (!this.#overflowed) break;
    }
    this.conn.send(SYNCER_MODULE, SyncerMsg.synced);
    this.#phase = 'synced';
    this.#hub.synced(this);
    const queued = this.#queued ?? [];
    this.#queued = null;
    for (const session of queued) this.#send(session);
  }

  #send(events: readonly Event[], encoded?: () => Uint8Array): void {
    const filter = this.#filter!;
    const admitted = filter.admit(events);
    if (admitted === null || !this.conn.isOpen) return;
    const body = admitted === events && encoded !== undefined
      ? encoded()
      : encodeAlone(admitted, writeEvents, admitted.length * EVENT_SIZE_HINT);
    filter.sent(admitted);
    this.conn.send(SYNCER_MODULE, SyncerMsg.events, (w) => w.raw(body), { sizeHint: body.length });
  }

  /** Bad input: logged, then closed (a synced client still gets a flush request, not waited for). */
  #reject(reason: string): void {
    if (!this.isOpen) return;
    this.#hub.log.warning('closing syncer client connection', { client: this.#describe(), reason });
    void this.lifecycle.fail(new Error(reason));
  }

  /** Closing as a server stop does (`close()`): a synced client gets a last flush request and confirms it first. */
  protected override async teardown(failure: Error | undefined): Promise<void> {
    // As the reference: a synced client that is being closed gets one last flush request; a
    // server stop waits for the answer, bad input does not, and a closed connection gets nothing.
    if (this.conn.isOpen && this.#phase === 'synced') {
      const confirmed = this.flush();
      if (failure === undefined) await confirmed;
    }
    await this.conn.close();
    this.#settleFlushes();
    await this.#streaming; // it stops at its next step; then no backend read is left open
    this.#hub.leave(this);
  }

  #settleFlushes(): void {
    for (const resolve of this.#flushes.values()) resolve();
    this.#flushes.clear();
  }

  #describe(): string {
    return this.#phase === 'request' ? this.conn.remoteAddress : `${JSON.stringify(this.#clientName)} ${this.conn.remoteAddress}`;
  }
}

function checkEventId(id: EventId): void {
  for (const key of ['server', 'session', 'instance'] as const) {
    if (!(id[key] >= 0)) throw new RangeError(`lastEventId.${key} must not be negative, got ${id[key]}`);
  }
}
