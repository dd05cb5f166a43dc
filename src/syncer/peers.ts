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

/** What is wrong with a peer list: each problem names the entry (its index) and its field. */
export interface PeerProblem {
  index: number;
  field: 'serverId' | 'address';
  message: string;
}

/** Checks a peer list: ids are non-negative integers listed once, addresses are chatter addresses. */
export function peerProblems(peers: readonly SyncerPeer[]): PeerProblem[] {
  const problems: PeerProblem[] = [];
  const seen = new Set<number>();
  peers.forEach((peer, index) => {
    if (!Number.isSafeInteger(peer?.serverId) || peer.serverId < 0)
      problems.push({ index, field: 'serverId', message: `server id must be a non-negative integer, got ${JSON.stringify(peer?.serverId)}` });
    else if (seen.has(peer.serverId)) problems.push({ index, field: 'serverId', message: `server id ${peer.serverId} is listed twice` });
    else seen.add(peer.serverId);
    try {
      parseAddress(peer?.address);
    } catch (err) {
      problems.push({ index, field: 'address', message: describeError(err) });
    }
  });
  return problems;
}

/** A fixed list (the `syncer_peers` configuration); checked now, so a bad entry fails at start. */
export function staticPeers(peers: readonly SyncerPeer[]): PeerDiscovery {
  const [problem] = peerProblems(peers);
  if (problem !== undefined) throw new TypeError(`syncer peer ${problem.index}: ${problem.message}`);
  const list = peers.map((peer) => ({ serverId: peer.serverId, address: peer.address }));
  return {
    watch(onPeers) {
      onPeers(list);
      return () => {};
    },
  };
}
