// One eventer client as seen by the server (docs/protocol.md, "What the server does"): requests
// take effect in the order they came; notifications are filtered by the connection's subscription.
import type { Event, QueryData, RegisterEvent, Source } from '../common/types.ts';
import type { Subscription } from '../common/subscription.ts';
import { jsonPayloadFromText } from '../common/json-payload.ts';
import type { Sifted } from '../common/event-check.ts';
import type { Logger } from '../common/logger.ts';
import type { ChatterConnection, ChatterMessage, Conversation } from '../chatter/connection.ts';
import { writeEvents } from '../sbs/event-codec.ts';
import { EVENTER_MODULE, EventerMsg, writeMsgRegisterRes } from '../sbs/eventer-messages.ts';
import type { EventerEngine } from './eventer-engine.ts';
import { readQueryRequest, readRegisterRequest, readSubscribeRequest, type IncomingRules } from './incoming.ts';
import { describeError } from '../common/describe-error.ts';

type Request = (
  | { kind: 'subscribe'; subscription: Subscription }
  | { kind: 'register'; conversation: Conversation; respond: boolean; events: Sifted<RegisterEvent> }
  | { kind: 'query'; conversation: Conversation; query: QueryData }
) & {
  /** bytes reckoned against the shared input ceiling until the request is handled */
  held: number;
};

/**
 * What one decoded array element is reckoned to hold (an event decodes to about 110 bytes; its
 * session copy and type segments are covered by counting every element, nested ones included).
 */
const BYTES_PER_ELEMENT = 128;

/** How a connection checks and reports what its client sends. */
export interface ConnectionRules extends IncomingRules {
  maxPendingRequests: number;
  logger: Logger;
}

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
  /** registrations handed to the engine and not yet answered */
  #inFlight = 0;
  /** the answers of those registrations, sent in order */
  #answers: Promise<void> = Promise.resolve();
  #running = false;
  #paused = false;
  readonly source: Source;
  readonly #engine: EventerEngine;
  readonly #rules: ConnectionRules;

  constructor(
    readonly conn: ChatterConnection,
    clientId: number,
    engine: EventerEngine,
    rules: ConnectionRules,
  ) {
    this.#engine = engine;
    this.#rules = rules;
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
   * whole session sends `all()`: the session encoded once for every such connection. 'dropped':
   * the message passed the connection's send queue limit, so the connection closed (a slow reader).
   */
  notify(events: Event[], all: () => Uint8Array): 'sent' | 'dropped' | 'none' {
    const sub = this.#subscription;
    if (sub === null || !this.conn.isOpen) return 'none';
    let matching = events;
    for (let i = 0; i < events.length; i++) {
      if (!sub.matches(events[i]!.type)) {
        matching = events.filter((e) => sub.matches(e.type));
        break;
      }
    }
    if (matching.length === 0) return 'none';
    if (matching === events) {
      const body = all();
      this.conn.send(EVENTER_MODULE, EventerMsg.notify, (w) => w.raw(body), { sizeHint: body.length });
    } else {
      this.conn.send(EVENTER_MODULE, EventerMsg.notify, (w) => writeEvents(w, matching), { sizeHint: matching.length * EVENT_SIZE_HINT });
    }
    // send() closes the connection at once only when its send queue is over the limit
    return this.conn.isOpen ? 'sent' : 'dropped';
  }

  #onMessage(msg: ChatterMessage): void {
    if (msg.module !== EVENTER_MODULE) {
      this.conn.abort(`unexpected message ${msg.module ?? ''}.${msg.type}`);
      return;
    }
    // Decode now: `msg.data` is only valid during this call; a malformed message closes at once,
    // an event that cannot be stored is refused on its own (incoming.ts). What the request will
    // hold is counted against the shared input ceiling as it is decoded, before it is built.
    let held = msg.data.length;
    if (!this.conn.holdInput(held)) return;
    const count = (elements: number): void => {
      held += elements * BYTES_PER_ELEMENT;
      if (!this.conn.holdInput(elements * BYTES_PER_ELEMENT)) throw new Error('closed for the shared input ceiling');
    };
    try {
      switch (msg.type) {
        case EventerMsg.subscribe:
          // Applied in order with the requests, like the reference's sequential loop.
          this.#enqueue({ kind: 'subscribe', subscription: readSubscribeRequest(msg.data, count), held });
          return;
        case EventerMsg.registerReq: {
          const events = readRegisterRequest(msg.data, this.#rules, count);
          for (const { index, reason } of events.refused) {
            this.#rules.logger.warning('register event refused', { client: this.source.id, index, reason });
          }
          this.#enqueue({ kind: 'register', conversation: msg.conversation, respond: !msg.last, events, held });
          return;
        }
        case EventerMsg.queryReq:
          this.#enqueue({ kind: 'query', conversation: msg.conversation, query: readQueryRequest(msg.data, this.#rules, count), held });
          return;
        default:
          this.conn.abort(`unexpected message ${EVENTER_MODULE}.${msg.type} from a client`);
      }
    } catch (err) {
      this.conn.abort(`bad ${msg.type}: ${describeError(err)}`);
    }
  }

  #enqueue(request: Request): void {
    this.#queue.push(request);
    if (this.#queue.length + this.#inFlight >= this.#rules.maxPendingRequests && !this.#paused) {
      this.#paused = true;
      this.conn.pause();
    }
    if (this.#running && this.#queue.length === 1) void this.#drain();
  }

  #drainActive = false;

  /**
   * Registrations go to the engine as they come, in order, without waiting for the earlier ones'
   * answers (a durable backend commits them together: one fsync for many, even on a single
   * connection); their answers go out in order. A query or subscription waits until every
   * earlier registration is answered, so it sees them.
   */
  async #drain(): Promise<void> {
    if (this.#drainActive) return;
    this.#drainActive = true;
    try {
      while (this.#queue.length > 0 && this.conn.isOpen) {
        const request = this.#queue.shift()!;
        if (request.kind === 'register') {
          this.#register(request);
          continue;
        }
        await this.#answers;
        await this.#handle(request);
        this.#handled(request);
      }
    } catch (err) {
      this.conn.abort(`request failed: ${describeError(err)}`);
    } finally {
      this.#drainActive = false;
    }
  }

  #register(request: Request & { kind: 'register' }): void {
    const { kept, spread } = request.events;
    this.#inFlight++;
    const registering = kept.length > 0 ? this.#engine.register(this.source, kept) : Promise.resolve([]);
    // Its failure is taken up by the answer chain below, maybe only after earlier answers: marked
    // handled now, so rejections of several waiting registrations (an engine closing) are not unhandled.
    registering.catch(() => undefined);
    this.#answers = this.#answers.then(() => registering).then(
      (registered) => {
        this.#inFlight--;
        this.#handled(request);
        if (!request.respond || !this.conn.isOpen) return;
        const results = spread(registered);
        this.conn.send(EVENTER_MODULE, EventerMsg.registerRes, (w) => writeMsgRegisterRes(w, results), {
          conversation: request.conversation, last: true, sizeHint: results.length * EVENT_SIZE_HINT,
        });
      },
      (err: unknown) => {
        this.#inFlight--;
        this.conn.abort(`request failed: ${describeError(err)}`);
      },
    );
  }

  /** Its bytes leave the input ceiling; reading resumes once half the allowance is free. */
  #handled(request: Request): void {
    this.conn.releaseInput(request.held);
    if (this.#paused && this.#queue.length + this.#inFlight <= this.#rules.maxPendingRequests / 2) {
      this.#paused = false;
      this.conn.resume();
    }
  }

  async #handle(request: Request & { kind: 'subscribe' | 'query' }): Promise<void> {
    if (request.kind === 'subscribe') {
      this.#subscription = request.subscription;
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
