// The eventer server (spec/protocol.md 3.4): a chatter listener that hands each client's
// requests to an engine and notifies clients of every stored session.
import type { Event } from '../common/types.ts';
import { listen, type ListenOptions } from '../chatter/transport.ts';
import type { ChatterConnection } from '../chatter/connection.ts';
import type { EventerEngine } from './eventer-engine.ts';
import { connectedEvent, EVENT_SIZE_HINT, EventerServerConnection } from './server-connection.ts';
import { encodeAlone } from '../sbs/writer.ts';
import { writeEvents } from '../sbs/event-codec.ts';
import { describeError } from '../common/describe-error.ts';
import type { Logger } from '../common/logger.ts';
import { callbackLogger } from '../common/callback-logger.ts';
import { rateLimitedLogger } from '../common/rate-limited-logger.ts';
import { DEFAULT_INCOMING_RULES, type IncomingRules } from './incoming.ts';

export interface EventerServerOptions extends ListenOptions, Partial<IncomingRules> {
  /** Requests read ahead per connection before reading pauses. Default 64. */
  maxPendingRequests?: number;
  /** Where refused input is reported (rate-limited per kind); default: lines through `log`. */
  logger?: Logger;
}

export interface EventerServer {
  readonly addresses: string[];
  /** Open client connections. */
  readonly connectionCount: number;
  /** Closes the listener and every connection; DISCONNECTED events are registered first. */
  close(): Promise<void>;
}

export async function createEventerServer(engine: EventerEngine, address: string, opts: EventerServerOptions = {}): Promise<EventerServer> {
  const logger = rateLimitedLogger(opts.logger ?? callbackLogger(opts.log ?? ((m: string) => console.warn(m)), 'hat.event.eventer'));
  // Connection close reasons vary; one message keeps repeats of them under one flood limit.
  const log = opts.log ?? ((reason: string) => logger.warning('connection closed', { reason }));
  const rules = {
    maxJsonDepth: opts.maxJsonDepth ?? DEFAULT_INCOMING_RULES.maxJsonDepth,
    allowReservedTypes: opts.allowReservedTypes ?? DEFAULT_INCOMING_RULES.allowReservedTypes,
    maxPendingRequests: opts.maxPendingRequests ?? 64,
    logger,
  };
  const notified = new Set<EventerServerConnection>();
  const lifecycles = new Set<Promise<void>>();
  let lastClientId = 0;

  const unsubscribe = engine.onEvents((events: Event[]) => {
    let encoded: Uint8Array | null = null;
    const all = () => (encoded ??= encodeAlone(events, writeEvents, events.length * EVENT_SIZE_HINT));
    for (const c of notified) {
      try {
        c.notify(events, all);
      } catch (err) {
        // one session the encoder refuses (a module's NaN...) must not silence the others
        logger.error('notifying a client failed', { client: c.source.id, error: describeError(err) });
      }
    }
  });

  async function serve(conn: ChatterConnection): Promise<void> {
    const client = new EventerServerConnection(conn, ++lastClientId, engine, rules);
    try {
      await engine.register(client.source, [connectedEvent('CONNECTED')]);
    } catch (err) {
      conn.abort(`registering CONNECTED failed: ${describeError(err)}`);
    }
    // Joined only now, so a client never sees its own CONNECTED.
    if (conn.isOpen) {
      notified.add(client);
      client.start();
    }
    await conn.closed;
    notified.delete(client);
    try {
      await engine.register(client.source, [connectedEvent('DISCONNECTED')]);
    } catch (err) {
      log(`eventer: registering DISCONNECTED of client ${client.source.id} failed: ${describeError(err)}`);
    }
  }

  const listener = await listen(address, (conn) => {
    const lifecycle = serve(conn);
    lifecycles.add(lifecycle);
    void lifecycle.finally(() => lifecycles.delete(lifecycle));
  }, { ...opts, log, logger });

  let closing: Promise<void> | null = null;
  return {
    addresses: listener.addresses,
    get connectionCount() {
      return lifecycles.size;
    },
    close() {
      closing ??= (async () => {
        await listener.close();
        await Promise.all([...lifecycles]);
        unsubscribe();
      })();
      return closing;
    },
  };
}
