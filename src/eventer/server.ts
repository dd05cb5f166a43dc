// The eventer server (docs/protocol.md, "What the server does"): a chatter listener that hands each client's
// requests to an engine and notifies clients of every stored session.
import type { Event } from '../common/types.ts';
import { listen, type ChatterServer, type ListenOptions } from '../chatter/transport.ts';
import type { ChatterConnection } from '../chatter/connection.ts';
import type { EventerEngine } from './eventer-engine.ts';
import { connectedEvent, EVENT_SIZE_HINT, EventerServerConnection, type ConnectionRules } from './server-connection.ts';
import { DEFAULT_INCOMING_RULES, type IncomingRules } from './incoming.ts';
import { encodeAlone } from '../sbs/writer.ts';
import { HAT_EVENT_TYPES } from '../sbs/hat-event-types.ts';
import { writeEvents } from '../sbs/event-codec.ts';
import { describeError } from '../common/describe-error.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';
import { silentLogger } from '../common/logger.ts';
import { noMetrics, type Metrics } from '../common/metrics.ts';

/**
 * Listener options but the SBS types (the eventer speaks hat-event's repository), and how client
 * input is judged. The logger gets every complaint about a client (close reasons, refused events
 * and connections): give it flood control (common/rate-limited-logger.ts), as the server does.
 */
export interface EventerServerOptions extends Omit<ListenOptions, 'sbsTypes'>, Partial<IncomingRules> {
  /** Requests read ahead per connection before reading pauses. Default 64. */
  maxPendingRequests?: number;
  /** Where connections, notifications and slow readers dropped are counted. Default: nowhere. */
  metrics?: Metrics;
}

/** A Resource: closing it closes the listener and every connection (DISCONNECTED registered first). */
export interface EventerServer extends Resource {
  readonly addresses: string[];
  /** Open client connections. */
  readonly connectionCount: number;
}

export async function createEventerServer(engine: EventerEngine, address: string, opts: EventerServerOptions = {}): Promise<EventerServer> {
  const logger = opts.logger ?? silentLogger();
  const server = new Server(engine, {
    maxJsonDepth: opts.maxJsonDepth ?? DEFAULT_INCOMING_RULES.maxJsonDepth,
    allowReservedTypes: opts.allowReservedTypes ?? DEFAULT_INCOMING_RULES.allowReservedTypes,
    maxPendingRequests: opts.maxPendingRequests ?? 64,
    logger,
  }, opts.metrics ?? noMetrics());
  await server.listen(address, { ...opts, logger, sbsTypes: HAT_EVENT_TYPES });
  return server;
}

class Server extends ResourceBase implements EventerServer {
  readonly #engine: EventerEngine;
  readonly #rules: ConnectionRules;
  readonly #notified = new Set<EventerServerConnection>();
  /** One per client, settled once its DISCONNECTED is registered. */
  readonly #clients = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  #listener: ChatterServer | null = null;
  #lastClientId = 0;

  constructor(engine: EventerEngine, rules: ConnectionRules, metrics: Metrics) {
    super();
    this.#engine = engine;
    this.#rules = rules;
    metrics.gauge('hat_event_eventer_connections', 'Open eventer client connections', () => this.connectionCount);
    const notifications = metrics.counter('hat_event_eventer_notifications_total', 'Notify messages sent to subscribed clients (one per session and client)');
    const dropped = metrics.counter(
      'hat_event_eventer_slow_readers_dropped_total',
      'Clients disconnected because the notifications they did not read passed the send queue limit (those notifications are dropped with them)',
    );
    this.#unsubscribe = engine.onEvents((events: Event[]) => {
      let encoded: Uint8Array | null = null;
      const all = () => (encoded ??= encodeAlone(events, writeEvents, events.length * EVENT_SIZE_HINT));
      let sent = 0;
      for (const c of this.#notified) {
        try {
          const outcome = c.notify(events, all);
          if (outcome === 'sent') sent++;
          else if (outcome === 'dropped') dropped.inc();
        } catch (err) {
          // one session the encoder refuses (a module's NaN...) must not silence the others
          rules.logger.error('notifying a client failed', { client: c.source.id, error: describeError(err) });
        }
      }
      if (sent > 0) notifications.inc(sent);
    });
  }

  get addresses(): string[] {
    return this.#listener?.addresses ?? [];
  }

  get connectionCount(): number {
    return this.#clients.size;
  }

  async listen(address: string, opts: ListenOptions): Promise<void> {
    try {
      this.#listener = await listen(address, (conn) => {
        const client = this.#serve(conn);
        this.#clients.add(client);
        void client.finally(() => this.#clients.delete(client));
      }, opts);
    } catch (err) {
      this.#unsubscribe();
      throw err;
    }
  }

  protected override async teardown(): Promise<void> {
    await this.#listener?.close();
    await Promise.all([...this.#clients]);
    this.#unsubscribe();
  }

  async #serve(conn: ChatterConnection): Promise<void> {
    const engine = this.#engine;
    const client = new EventerServerConnection(conn, ++this.#lastClientId, engine, this.#rules);
    try {
      await engine.register(client.source, [connectedEvent('CONNECTED')]);
    } catch (err) {
      conn.abort(`registering CONNECTED failed: ${describeError(err)}`);
    }
    // Joined only now, so a client never sees its own CONNECTED.
    if (conn.isOpen) {
      this.#notified.add(client);
      client.start();
    }
    await conn.closed;
    this.#notified.delete(client);
    try {
      await engine.register(client.source, [connectedEvent('DISCONNECTED')]);
    } catch (err) {
      this.#rules.logger.warning(`eventer: registering DISCONNECTED of client ${client.source.id} failed: ${describeError(err)}`);
    }
  }
}
