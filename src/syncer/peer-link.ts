// The Syncer client's link to one peer (docs/protocol.md, Syncer, "What the client does"): ask for the peer's events after the
// last one held, register what arrives straight into the backend (no modules, no eventer notify,
// as Hat), answer flush requests once registered, and reconnect after a delay when the peer is
// down, refuses, or drops the connection. A link never blocks another link or the server.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../common/logger.ts';
import { ResourceBase } from '../common/resource.ts';
import { describeError } from '../common/describe-error.ts';
import { eventIdKey } from '../common/event-id.ts';
import type { Backend } from '../backends/backend.ts';
import type { TransportOptions } from '../chatter/transport.ts';
import { connectSyncer, type SyncerStream } from './stream.ts';
import { clientSyncedEvent, registerStatus, type StatusRegistrar } from './status.ts';
import type { SyncerPeer } from './peers.ts';

export type PeerState = 'connecting' | 'connected' | 'synced' | 'disconnected';

export interface PeerLinkContext {
  /** This server's id, sent as the client name. */
  readonly serverId: number;
  readonly backend: Backend;
  readonly status: StatusRegistrar;
  readonly log: Logger;
  readonly reconnectDelayMs: number;
  readonly maxUnreadBytes: number | undefined;
  readonly transport: Omit<TransportOptions, 'sbsTypes' | 'logger' | 'pemFile'>;
  onState(peer: SyncerPeer, state: PeerState, backlogEvents: number): void;
}

export class PeerLink extends ResourceBase {
  readonly #stopping = new AbortController();
  /** Resolves (to null) when the link starts closing. */
  readonly #stopped = new Promise<null>((resolve) => this.#stopping.signal.addEventListener('abort', () => resolve(null)));
  #stream: SyncerStream | null = null;
  #state: PeerState = 'connecting';
  readonly #loop: Promise<void>;
  readonly #ctx: PeerLinkContext;

  constructor(
    readonly peer: SyncerPeer,
    ctx: PeerLinkContext,
  ) {
    super();
    this.#ctx = ctx;
    this.#loop = this.#run();
  }

  get state(): PeerState {
    return this.#state;
  }

  async #run(): Promise<void> {
    const peer = this.peer;
    const ctx = this.#ctx;
    const where = { server_id: peer.serverId, address: peer.address };
    while (!this.#stopping.signal.aborted) {
      let stream: SyncerStream;
      try {
        // Registered ids count, flushed or not: the backend skips nothing we already hold.
        const lastEventId = await ctx.backend.getLastEventId(peer.serverId);
        const connecting = connectSyncer(peer.address, {
          ...ctx.transport, clientName: String(ctx.serverId), lastEventId, logger: ctx.log, maxUnreadBytes: ctx.maxUnreadBytes,
        });
        // A close does not wait for a connect to a peer that does not answer (the OS gives up in minutes).
        const connected = await Promise.race([connecting, this.#stopped]);
        if (connected === null) {
          connecting.then((late) => late.close(), () => undefined);
          break;
        }
        stream = connected;
        ctx.log.info('connected to syncer peer', { ...where, last_event_id: eventIdKey(lastEventId) });
      } catch (err) {
        ctx.log.info('cannot connect to syncer peer; retrying', { ...where, error: describeError(err), delay_ms: ctx.reconnectDelayMs });
        await this.#pause();
        continue;
      }
      if (this.#stopping.signal.aborted) {
        await stream.close();
        break;
      }
      await this.#follow(stream);
      if (this.#stopping.signal.aborted) break;
      ctx.log.info('syncer peer disconnected; reconnecting', {
        ...where, reason: describeError(stream.failure ?? 'closed'), delay_ms: ctx.reconnectDelayMs,
      });
      await this.#pause();
    }
  }

  /**
   * One connection: the backlog (status false), MsgSynced (status true, then the state 'synced'
   * with the number of events the backlog brought), then live, until it closes.
   */
  async #follow(stream: SyncerStream): Promise<void> {
    const peer = this.peer;
    const ctx = this.#ctx;
    this.#stream = stream;
    this.#setState('connected', 0);
    void registerStatus(ctx.status, clientSyncedEvent(peer.serverId, false), ctx.log);
    let backlog = 0;
    stream.synced.then(async () => {
      if (this.#stopping.signal.aborted) return;
      ctx.log.info('synced with syncer peer', { server_id: peer.serverId, address: peer.address, backlog_events: backlog });
      await registerStatus(ctx.status, clientSyncedEvent(peer.serverId, true), ctx.log);
      if (this.#stream === stream && !this.#stopping.signal.aborted) this.#setState('synced', backlog);
    }, () => undefined);
    try {
      for await (const events of stream) {
        await ctx.backend.register(events);
        if (!stream.isSynced) backlog += events.length;
      }
    } catch (err) {
      // The stream closes as the loop is left; the next connection asks again from what is held.
      ctx.log.error('registering synced events failed', { server_id: peer.serverId, error: describeError(err) });
    }
    this.#stream = null;
    this.#setState('disconnected', 0);
  }

  /** The reconnect delay, cut short by a close. */
  async #pause(): Promise<void> {
    await sleep(this.#ctx.reconnectDelayMs, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
  }

  #setState(state: PeerState, backlogEvents: number): void {
    this.#state = state;
    this.#ctx.onState(this.peer, state, backlogEvents);
  }

  protected override async teardown(): Promise<void> {
    this.#stopping.abort();
    await this.#stream?.close();
    await this.#loop;
  }
}
