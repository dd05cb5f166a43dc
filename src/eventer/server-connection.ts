// One eventer client as seen by the server (spec/protocol.md 3.3-3.4): requests are handled
// strictly one at a time; notifications are filtered by the connection's subscription.
import type { Event, EventType, QueryData, RegisterEvent, Source } from '../common/types.ts';
import { Subscription } from '../common/subscription.ts';
import { jsonPayloadFromText } from '../common/json-payload.ts';
import type { ChatterConnection, ChatterMessage, Conversation } from '../chatter/connection.ts';
import { SbsReader } from '../sbs/reader.ts';
import { writeEvents } from '../sbs/event-codec.ts';
import { readQueryData } from '../sbs/query-codec.ts';
import { EVENTER_MODULE, EventerMsg, readMsgRegisterReq, readMsgSubscribe, writeMsgRegisterRes } from '../sbs/eventer-messages.ts';
import type { EventerEngine } from './eventer-engine.ts';
import { describeError } from '../common/describe-error.ts';

type Request =
  | { kind: 'subscribe'; types: EventType[] }
  | { kind: 'register'; conversation: Conversation; respond: boolean; events: RegisterEvent[] }
  | { kind: 'query'; conversation: Conversation; query: QueryData };

/** Bytes per event to size an outgoing buffer once in the common case. */
export const EVENT_SIZE_HINT = 96;

export const connectedEvent = (text: 'CONNECTED' | 'DISCONNECTED'): RegisterEvent => ({
  type: ['event', 'eventer'],
  sourceTimestamp: null,
  payload: jsonPayloadFromText(`"${text}"`),
});

export class EventerServerConnection {
  #subscription: Subscription | null = null;
  readonly #queue: Request[] = [];
  #running = false;
  #paused = false;
  readonly source: Source;
  readonly #engine: EventerEngine;
  readonly #maxPendingRequests: number;

  constructor(
    readonly conn: ChatterConnection,
    clientId: number,
    engine: EventerEngine,
    maxPendingRequests: number,
  ) {
    this.#engine = engine;
    this.#maxPendingRequests = maxPendingRequests;
    this.source = { type: 'eventer', id: clientId };
    conn.setHandler((msg) => this.#onMessage(msg));
  }

  /** Starts handling requests (after CONNECTED is registered). */
  start(): void {
    this.#running = true;
    void this.#drain();
  }

  /**
   * Sends the events this connection subscribed to, as one MsgNotify. A connection that takes the
   * whole session sends `all()`: the session encoded once for every such connection.
   */
  notify(events: Event[], all: () => Uint8Array): void {
    const sub = this.#subscription;
    if (sub === null || !this.conn.isOpen) return;
    let matching = events;
    for (let i = 0; i < events.length; i++) {
      if (!sub.matches(events[i]!.type)) {
        matching = events.filter((e) => sub.matches(e.type));
        break;
      }
    }
    if (matching.length === 0) return;
    if (matching === events) {
      const body = all();
      this.conn.send(EVENTER_MODULE, EventerMsg.notify, (w) => w.raw(body), { sizeHint: body.length });
    } else {
      this.conn.send(EVENTER_MODULE, EventerMsg.notify, (w) => writeEvents(w, matching), { sizeHint: matching.length * EVENT_SIZE_HINT });
    }
  }

  #onMessage(msg: ChatterMessage): void {
    if (msg.module !== EVENTER_MODULE) {
      this.conn.abort(`unexpected message ${msg.module ?? ''}.${msg.type}`);
      return;
    }
    // Decode now: `msg.data` is only valid during this call, and bad input closes at once.
    const r = new SbsReader(msg.data);
    try {
      switch (msg.type) {
        case EventerMsg.subscribe:
          // Applied in order with the requests, like the reference's sequential loop.
          this.#enqueue({ kind: 'subscribe', types: readMsgSubscribe(r) });
          return;
        case EventerMsg.registerReq: {
          const events = readMsgRegisterReq(r);
          checkJsonPayloads(events);
          this.#enqueue({ kind: 'register', conversation: msg.conversation, respond: !msg.last, events });
          return;
        }
        case EventerMsg.queryReq: {
          const query = readQueryData(r);
          if (query.payload) checkJsonPayloads([{ payload: query.payload }]);
          this.#enqueue({ kind: 'query', conversation: msg.conversation, query });
          return;
        }
        default:
          this.conn.abort(`unexpected message ${EVENTER_MODULE}.${msg.type} from a client`);
      }
    } catch (err) {
      this.conn.abort(`bad ${msg.type}: ${describeError(err)}`);
    }
  }

  #enqueue(request: Request): void {
    this.#queue.push(request);
    if (this.#queue.length >= this.#maxPendingRequests && !this.#paused) {
      this.#paused = true;
      this.conn.pause();
    }
    if (this.#running && this.#queue.length === 1) void this.#drain();
  }

  #drainActive = false;

  async #drain(): Promise<void> {
    if (this.#drainActive) return;
    this.#drainActive = true;
    try {
      while (this.#queue.length > 0 && this.conn.isOpen) {
        const request = this.#queue[0]!;
        await this.#handle(request);
        this.#queue.shift();
        if (this.#paused && this.#queue.length <= this.#maxPendingRequests / 2) {
          this.#paused = false;
          this.conn.resume();
        }
      }
    } catch (err) {
      this.conn.abort(`request failed: ${describeError(err)}`);
    } finally {
      this.#drainActive = false;
    }
  }

  async #handle(request: Request): Promise<void> {
    if (request.kind === 'subscribe') {
      this.#subscription = new Subscription(request.types);
      return;
    }
    if (request.kind === 'register') {
      const results = await this.#engine.register(this.source, request.events);
      if (request.respond && this.conn.isOpen) {
        this.conn.send(EVENTER_MODULE, EventerMsg.registerRes, (w) => writeMsgRegisterRes(w, results), {
          conversation: request.conversation, last: true, sizeHint: results.length * EVENT_SIZE_HINT,
        });
      }
      return;
    }
    const answer = await this.#engine.queryEncoded(request.query);
    if (this.conn.isOpen) {
      // MsgQueryRes is Array(Event): the count, then the events' encodings as they came.
      this.conn.send(EVENTER_MODULE, EventerMsg.queryRes, (w) => w.arrayLength(answer.count), {
        conversation: request.conversation, last: true, sizeHint: 16, tail: answer.chunks,
      });
    }
  }
}

/** JSON payload text from a client must be valid JSON (the reference's decoder parses it). */
function checkJsonPayloads(events: readonly Pick<RegisterEvent, 'payload'>[]): void {
  for (const e of events) {
    if (e.payload?.type !== 'json') continue;
    try {
      void e.payload.data;
    } catch (err) {
      throw new Error(`invalid JSON payload: ${describeError(err)}`);
    }
  }
}
