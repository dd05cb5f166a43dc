// The eventer client (docs/api.md, "Eventer client and server"): subscribe at any time, register with or without response,
// query, and receive notifications by `receive()` or `for await`.
import type { Event, EventType, QueryData, RegisterEvent } from '../common/types.ts';
import { QueuedIterator } from '../common/queued-iterator.ts';
import { connect, type TransportOptions } from '../chatter/transport.ts';
import type { DataWriter } from '../chatter/framing.ts';
import { ConnectionClosedError, type ChatterConnection, type ChatterMessage } from '../chatter/connection.ts';
import { SbsReader } from '../sbs/reader.ts';
import { encodeAlone } from '../sbs/writer.ts';
import { HAT_EVENT_TYPES } from '../sbs/hat-event-types.ts';
import { readEvents } from '../sbs/event-codec.ts';
import { writeQueryData } from '../sbs/query-codec.ts';
import {
  EVENTER_MODULE, EventerMsg, readMsgRegisterRes, writeMsgRegisterReq, writeMsgSubscribe,
} from '../sbs/eventer-messages.ts';
import { describeError } from '../common/describe-error.ts';
import { queryPages } from './query-pages.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';

/** Transport options but the SBS types: the eventer speaks hat-event's repository. */
export interface EventerClientOptions extends Omit<TransportOptions, 'sbsTypes'> {
  /** Sent as one MsgSubscribe right after connecting, when not empty. */
  subscriptions?: EventType[];
  /**
   * Bytes of notifications received but not yet taken by `receive()` or iteration past which the
   * connection is closed (the application does not keep up; what arrived stays readable).
   * Default 128 MiB, as the server allows a peer that does not read.
   */
  maxUnreadNotificationBytes?: number;
}

/** A Resource: `closed` settles when the connection closed, from either side; `failure` says why. */
export interface EventerClient extends Resource {
  subscribe(types: EventType[]): void;
  /** Resolves once the request is handed to the socket, waiting while its send buffer is full. */
  register(events: RegisterEvent[] | EncodedRegisterRequest): Promise<void>;
  registerWithResponse(events: RegisterEvent[] | EncodedRegisterRequest): Promise<(Event | null)[]>;
  query(data: QueryData): Promise<Event[]>;
  /**
   * The answer to `data` in pages of at most `pageSize` events, each page one query starting
   * where the last ended (query-pages.ts): for answers larger than a server answers at once.
   */
  queryPages(data: QueryData, pageSize: number): AsyncIterable<Event[]>;
  /** The next notified session's events; rejects once the connection is closed. */
  receive(): Promise<Event[]>;
  [Symbol.asyncIterator](): AsyncIterator<Event[]>;
}

const EVENT_SIZE_HINT = 64;

/**
 * A register request encoded once, to be sent any number of times: a load generator builds
 * its requests before it starts the clock, so it measures the server, not its own encoding.
 */
export class EncodedRegisterRequest {
  readonly bytes: Uint8Array;
  readonly count: number;

  constructor(events: readonly RegisterEvent[]) {
    this.bytes = encodeAlone(events, writeMsgRegisterReq, events.length * EVENT_SIZE_HINT);
    this.count = events.length;
  }
}

function registerWriter(events: RegisterEvent[] | EncodedRegisterRequest): DataWriter {
  if (events instanceof EncodedRegisterRequest) {
    const { bytes } = events;
    return (w) => w.raw(bytes);
  }
  return (w) => writeMsgRegisterReq(w, events);
}

const countOf = (events: RegisterEvent[] | EncodedRegisterRequest): number =>
  events instanceof EncodedRegisterRequest ? events.count : events.length;

export async function connectEventer(address: string, opts: EventerClientOptions = {}): Promise<EventerClient> {
  const limit = opts.maxUnreadNotificationBytes ?? 128 * 1024 * 1024;
  if (!(limit > 0)) throw new RangeError(`maxUnreadNotificationBytes must be positive, got ${limit}`);
  const conn = await connect(address, { ...opts, sbsTypes: HAT_EVENT_TYPES });
  const client = new Client(conn, limit);
  if (opts.subscriptions && opts.subscriptions.length > 0) client.subscribe(opts.subscriptions);
  return client;
}

interface Pending {
  type: string;
  decode(r: SbsReader): unknown;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** A notified session's events and the size of the message that brought them. */
interface Notification {
  events: Event[];
  bytes: number;
}

/**
 * Lives as long as its connection: it starts closing when the connection does (with its failure),
 * so `isOpen` turns false before anyone is handed a client that can no longer send.
 */
class Client extends ResourceBase implements EventerClient {
  readonly #pending = new Map<number, Pending>();
  readonly #notifications = new QueuedIterator<Notification>();
  #unreadBytes = 0;
  readonly #conn: ChatterConnection;
  readonly #maxUnreadBytes: number;

  constructor(
    conn: ChatterConnection,
    maxUnreadBytes: number,
  ) {
    super();
    this.#conn = conn;
    this.#maxUnreadBytes = maxUnreadBytes;
    this.lifecycle.adopt(conn);
    conn.setHandler((msg) => this.#onMessage(msg));
    conn.onClose((reason) => {
      void (conn.failure ? this.lifecycle.fail(conn.failure) : this.close());
      const err = new ConnectionClosedError(reason);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#notifications.end();
    });
  }

  subscribe(types: EventType[]): void {
    this.#conn.send(EVENTER_MODULE, EventerMsg.subscribe, (w) => writeMsgSubscribe(w, types));
  }

  async register(events: RegisterEvent[] | EncodedRegisterRequest): Promise<void> {
    this.#conn.send(EVENTER_MODULE, EventerMsg.registerReq, registerWriter(events), {
      last: true, sizeHint: countOf(events) * EVENT_SIZE_HINT,
    });
    await this.#conn.drained();
  }

  async registerWithResponse(events: RegisterEvent[] | EncodedRegisterRequest): Promise<(Event | null)[]> {
    return this.#request(EventerMsg.registerReq, EventerMsg.registerRes, registerWriter(events), countOf(events), readMsgRegisterRes);
  }

  async query(data: QueryData): Promise<Event[]> {
    return this.#request(EventerMsg.queryReq, EventerMsg.queryRes, (w) => writeQueryData(w, data), 1, readEvents);
  }

  queryPages(data: QueryData, pageSize: number): AsyncIterable<Event[]> {
    return queryPages((page) => this.query(page), data, pageSize);
  }

  async receive(): Promise<Event[]> {
    const next = await this.#notifications.next();
    if (next.done) throw new ConnectionClosedError(this.#conn.closeReason ?? 'closed');
    return this.#taken(next.value);
  }

  [Symbol.asyncIterator](): AsyncIterator<Event[]> {
    return {
      next: async () => {
        const next = await this.#notifications.next();
        return next.done ? next : { done: false, value: this.#taken(next.value) };
      },
      return: async () => {
        await this.#notifications.return();
        return { done: true, value: undefined };
      },
    };
  }

  #taken(notification: Notification): Event[] {
    this.#unreadBytes -= notification.bytes;
    return notification.events;
  }

  protected override teardown(): Promise<void> {
    return this.#conn.close();
  }

  #request<T>(type: string, resType: string, write: DataWriter, count: number, decode: (r: SbsReader) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const conv = this.#conn.send(EVENTER_MODULE, type, write, { last: false, sizeHint: count * EVENT_SIZE_HINT });
      this.#pending.set(conv.first, { type: resType, decode, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  #onMessage(msg: ChatterMessage): void {
    if (msg.module === EVENTER_MODULE && msg.type === EventerMsg.notify) {
      let events: Event[];
      try {
        events = readEvents(new SbsReader(msg.data));
      } catch (err) {
        this.#conn.abort(`bad MsgNotify: ${describeError(err)}`);
        return;
      }
      this.#notifications.push({ events, bytes: msg.data.length });
      this.#unreadBytes += msg.data.length;
      if (this.#unreadBytes > this.#maxUnreadBytes)
        this.#conn.abort(
          `${this.#unreadBytes} bytes of notifications not received, past the limit of ${this.#maxUnreadBytes} (the application does not read them)`,
        );
      return;
    }
    const pending = msg.conversation.owner ? this.#pending.get(msg.conversation.first) : undefined;
    if (pending === undefined || msg.module !== EVENTER_MODULE || msg.type !== pending.type) {
      this.#conn.abort(`unexpected message ${msg.module ?? ''}.${msg.type} from the server`);
      return;
    }
    this.#pending.delete(msg.conversation.first);
    let value: unknown;
    try {
      value = pending.decode(new SbsReader(msg.data));
    } catch (err) {
      pending.reject(err as Error);
      this.#conn.abort(`bad ${msg.type}: ${describeError(err)}`);
      return;
    }
    pending.resolve(value);
  }
}
