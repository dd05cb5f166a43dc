// The Syncer server (docs/protocol.md, Syncer: "What the server does", "Status events"): streams this server's flushed events to other
// servers (or any client) from the position each asks for, then live. Its client list is a
// status event; a stop flushes every client so a standby holds every event before a switchover.
import type { Event } from '../common/types.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';
import type { Backend } from '../backends/backend.ts';
import { listen, type ChatterServer, type TransportOptions } from '../chatter/transport.ts';
import type { ChatterConnection } from '../chatter/connection.ts';
import { encodeAlone } from '../sbs/writer.ts';
import { HAT_EVENT_TYPES } from '../sbs/hat-event-types.ts';
import { writeEvents } from '../sbs/event-codec.ts';
import { EVENT_SIZE_HINT, SyncerServerConnection, type ConnectionHub, type ServerConnectionLimits } from './server-connection.ts';
import { registerStatus, serverStatusEvent, type StatusRegistrar, type SyncerClientInfo } from './status.ts';

/** Hat's default Syncer address (the port of `syncer_server.address`). */
export const DEFAULT_SYNCER_ADDRESS = 'tcp+sbs://127.0.0.1:23013';

export interface SyncerServerOptions extends Omit<TransportOptions, 'sbsTypes'> {
  /** Seconds a flush request waits for its MsgFlushRes before it is given up (logged). Default 20, the chatter ping timeout. */
  flushTimeout?: number;
  /** Send-buffer bytes past which a client's backlog waits for it to read. Default 1 MiB. */
  backlogHighWater?: number;
  /** Live events held per client while its backlog is read, before they are re-read from the backend instead. Default 100 000. */
  maxQueuedLiveEvents?: number;
  // A client that stops reading once synced is dropped when its send buffer passes `maxSendQueue`
  // (chatter's bound, default 128 MiB, as for an eventer subscriber); it resumes from its last id.
}

export interface SyncerServer extends Resource {
  /** Bound addresses, with the real port when 0 was asked for. */
  readonly addresses: string[];
  /** Clients that sent MsgReq, in the order they did. */
  readonly clients: SyncerClientInfo[];
  /**
   * Flushes the backend, then asks every client to confirm it holds everything sent so far
   * (MsgFlushReq / MsgFlushRes). The server's stop calls it after the engine stopped.
   */
  flushClients(): Promise<void>;
  /** Registers the client list status event now, as at start and on every change (for an engine that restarted). */
  publishStatus(): void;
}

/**
 * Listens on `address` and serves `backend`'s flushed events; `status` registers the client list
 * (`['event','syncer','server']`, the engine satisfies it), once now and on every change.
 *
 * The backend must report as flushed (callbacks and `queryFlushed`) the same events. A backend
 * that never persists (memory, dummy) reports nothing, so wrap it with `flushedOnRegister`.
 */
export async function createSyncerServer(
  address: string,
  backend: Backend,
  status: StatusRegistrar,
  opts: SyncerServerOptions = {},
): Promise<SyncerServer> {
  const limits: ServerConnectionLimits = {
    backlogHighWater: positive('backlogHighWater', opts.backlogHighWater ?? 1024 * 1024),
    maxQueuedLiveEvents: positive('maxQueuedLiveEvents', opts.maxQueuedLiveEvents ?? 100_000),
    flushTimeoutMs: positive('flushTimeout', opts.flushTimeout ?? 20) * 1000,
  };
  const log = (opts.logger ?? silentLogger()).child('syncer.server');
  const server = new Server(backend, status, limits, log);
  const { logger: _logger, ...transport } = opts;
  try {
    await server.listen(address, { ...transport, logger: log, sbsTypes: HAT_EVENT_TYPES });
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}

class Server extends ResourceBase implements SyncerServer, ConnectionHub {
  #listener: ChatterServer | null = null;
  readonly #connections = new Set<SyncerServerConnection>();
  /** Connections past MsgReq, in that order: the status list and the live stream. */
  readonly #joined = new Set<SyncerServerConnection>();
  readonly #unsubscribe: () => void;
  readonly #status: StatusRegistrar;

  constructor(
    readonly backend: Backend,
    status: StatusRegistrar,
    readonly limits: ServerConnectionLimits,
    readonly log: Logger,
  ) {
    super();
    this.#status = status;
    this.#unsubscribe = backend.onFlushed((events) => this.#live(events));
  }

  async listen(address: string, transport: TransportOptions): Promise<void> {
    this.#listener = await listen(address, (conn) => this.#accept(conn), transport);
    this.publishStatus();
    for (const bound of this.#listener.addresses) this.log.info('syncer server listening', { address: bound });
  }

  get addresses(): string[] {
    return [...(this.#listener?.addresses ?? [])];
  }

  get clients(): SyncerClientInfo[] {
    return [...this.#joined].map((c) => ({ clientName: c.clientName, synced: c.isSynced }));
  }

  async flushClients(): Promise<void> {
    if (!this.isOpen) return;
    await this.backend.flush();
    await Promise.all([...this.#joined].map((c) => c.flush()));
  }

  join(connection: SyncerServerConnection): void {
    this.#joined.add(connection);
    this.publishStatus();
  }

  synced(connection: SyncerServerConnection): void {
    this.log.info('syncer client synced', { client: connection.clientName });
    this.publishStatus();
  }

  leave(connection: SyncerServerConnection): void {
    this.#connections.delete(connection);
    if (this.#joined.delete(connection)) this.publishStatus();
  }

  #accept(conn: ChatterConnection): void {
    if (!this.isOpen) {
      void conn.close();
      return;
    }
    this.#connections.add(new SyncerServerConnection(conn, this));
  }

  #live(events: Event[]): void {
    let body: Uint8Array | null = null;
    const encoded = (): Uint8Array => (body ??= encodeAlone(events, writeEvents, events.length * EVENT_SIZE_HINT));
    for (const connection of this.#joined) connection.live(events, encoded);
  }

  /**
   * The client list as a status event. Not while stopping: those changes describe the stop itself,
   * and the engine they would go through has stopped before the Syncer in a server's stop order.
   */
  publishStatus(): void {
    if (!this.isOpen) return;
    void registerStatus(this.#status, serverStatusEvent(this.clients), this.log);
  }

  protected override async teardown(): Promise<void> {
    // Each synced client gets its last flush request and confirms it, then the listener closes.
    await Promise.all([...this.#connections].map((c) => c.close()));
    await this.#listener?.close();
    this.#unsubscribe();
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${name} must be positive, got ${value}`);
  return value;
}
