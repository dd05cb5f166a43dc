// The Syncer client embedded in a server (docs/protocol.md, Syncer, "What the client does"): one link per peer that its
// discovery lists (not this server itself), kept in step as the list changes.
import { silentLogger, type Logger } from '../common/logger.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';
import type { Backend } from '../backends/backend.ts';
import type { TransportOptions } from '../chatter/transport.ts';
import { PeerLink, type PeerLinkContext, type PeerState } from './peer-link.ts';
import type { PeerDiscovery, SyncerPeer } from './peers.ts';
import type { StatusRegistrar } from './status.ts';

export type { PeerState } from './peer-link.ts';

export interface SyncerClientOptions extends Omit<TransportOptions, 'sbsTypes' | 'pemFile'> {
  /** Seconds between a failed or lost connection and the next attempt. Default 10, as Hat. */
  reconnectDelay?: number;
  /** Per peer: bytes received and not yet registered past which reading pauses. Default 16 MiB. */
  maxUnreadBytes?: number;
}

export type StateCallback = (peer: SyncerPeer, state: PeerState, backlogEvents: number) => void;

export interface SyncerPeerInfo extends SyncerPeer {
  state: PeerState;
}

export interface SyncerClient extends Resource {
  readonly peers: SyncerPeerInfo[];
  /**
   * Every link state change (Hat's CONNECTED / SYNCED / DISCONNECTED); returns unsubscribe. At
   * 'synced' (once the status event `true` is registered) `backlogEvents` is how many events the
   * connection's backlog brought; 0 for the other states.
   */
  onState(cb: StateCallback): () => void;
}

/**
 * Syncs the events of every peer `discovery` lists into `backend`, as server `serverId` (its
 * client name). `status` registers `['event','syncer','client', <peer id>, 'synced']`.
 */
export function createSyncerClient(
  serverId: number,
  backend: Backend,
  status: StatusRegistrar,
  discovery: PeerDiscovery,
  opts: SyncerClientOptions = {},
): SyncerClient {
  if (!Number.isSafeInteger(serverId) || serverId < 0) throw new RangeError(`serverId must be a non-negative integer, got ${serverId}`);
  const { logger, reconnectDelay = 10, maxUnreadBytes, ...transport } = opts;
  if (!(reconnectDelay >= 0)) throw new RangeError(`reconnectDelay must not be negative, got ${reconnectDelay}`);
  return new Client(serverId, backend, status, discovery, (logger ?? silentLogger()).child('syncer.client'), reconnectDelay * 1000, maxUnreadBytes, transport);
}

class Client extends ResourceBase implements SyncerClient {
  readonly #links = new Map<number, PeerLink>();
  readonly #callbacks = new Set<StateCallback>();
  readonly #context: PeerLinkContext;
  readonly #stopWatching: () => void;
  readonly #log: Logger;

  constructor(
    serverId: number,
    backend: Backend,
    status: StatusRegistrar,
    discovery: PeerDiscovery,
    log: Logger,
    reconnectDelayMs: number,
    maxUnreadBytes: number | undefined,
    transport: PeerLinkContext['transport'],
  ) {
    super();
    this.#log = log;
    this.#context = {
      serverId, backend, status, log, reconnectDelayMs, maxUnreadBytes, transport,
      onState: (peer, state, backlogEvents) => {
        for (const cb of this.#callbacks) cb(peer, state, backlogEvents);
      },
    };
    this.#stopWatching = discovery.watch((peers) => this.#apply(peers));
  }

  get peers(): SyncerPeerInfo[] {
    return [...this.#links.values()].map((link) => ({ ...link.peer, state: link.state }));
  }

  onState(cb: StateCallback): () => void {
    this.#callbacks.add(cb);
    return () => this.#callbacks.delete(cb);
  }

  #apply(peers: readonly SyncerPeer[]): void {
    if (!this.isOpen) return;
    const wanted = new Map<number, SyncerPeer>();
    for (const peer of peers) {
      if (peer.serverId === this.#context.serverId) {
        this.#log.warning('syncer peer with this server\'s own id ignored', { server_id: peer.serverId, address: peer.address });
        continue;
      }
      wanted.set(peer.serverId, peer);
    }
    for (const [id, link] of this.#links) {
      if (wanted.get(id)?.address === link.peer.address) continue;
      this.#links.delete(id);
      void link.close();
    }
    for (const [id, peer] of wanted) {
      if (!this.#links.has(id)) this.#links.set(id, new PeerLink(peer, this.#context));
    }
  }

  protected override async teardown(): Promise<void> {
    this.#stopWatching();
    await Promise.all([...this.#links.values()].map((link) => link.close()));
    this.#links.clear();
  }
}
