// Where the Syncer client finds the servers to sync from. Hat finds them through Hat Monitor
// (same group, not itself, with `server_id` and `syncer_server_address`); without a monitor
// they are a configured list. Both are a PeerDiscovery.
import { parseAddress } from '../chatter/address.ts';
import { describeError } from '../common/describe-error.ts';

export interface SyncerPeer {
  /** The peer's own server id: the events asked for, and the id in the client's status event. */
  serverId: number;
  /** Its Syncer server, `tcp+sbs://host:port` or `ssl+sbs://host:port`. */
  address: string;
}

export interface PeerDiscovery {
  /** Calls `onPeers` with the current peers (now, or as soon as known) and again on every change; returns stop. */
  watch(onPeers: (peers: readonly SyncerPeer[]) => void): () => void;
}

/** A fixed list (the `syncer_peers` configuration); checked now, so a bad entry fails at start. */
export function staticPeers(peers: readonly SyncerPeer[]): PeerDiscovery {
  const seen = new Set<number>();
  const list = peers.map((peer, i) => {
    if (!Number.isSafeInteger(peer?.serverId) || peer.serverId < 0)
      throw new TypeError(`syncer peer ${i}: server id must be a non-negative integer, got ${JSON.stringify(peer?.serverId)}`);
    if (seen.has(peer.serverId)) throw new TypeError(`syncer peer ${i}: server id ${peer.serverId} is listed twice`);
    seen.add(peer.serverId);
    try {
      parseAddress(peer.address);
    } catch (err) {
      throw new TypeError(`syncer peer ${i}: ${describeError(err)}`);
    }
    return { serverId: peer.serverId, address: peer.address };
  });
  return {
    watch(onPeers) {
      onPeers(list);
      return () => {};
    },
  };
}
