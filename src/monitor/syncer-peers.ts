// Which members of the monitor's list an event server syncs from (docs/protocol.md, "Syncer peers"): the
// other members of its own group that publish a server id and a syncer address, and, when the
// server has a syncer token, the same token (a one-sided rule, kept for compatibility with Hat).
// Blessing plays no part: active and standby peers alike. Pure: the caller logs `skipped` when
// it changes, and feeds `peers` to the Syncer client on every monitor change.
import { parseAddress } from '../chatter/address.ts';
import { describeError } from '../common/describe-error.ts';
import type { SbsInteger } from '../sbs/monitor-messages.ts';
import { sameComponent, type ComponentInfo } from './component-info.ts';
import type { SyncerPeer } from '../syncer/peers.ts';

/** A Syncer peer (its server id and `syncer_server_address`) with its identity in the monitor's list. */
export interface MonitorSyncerPeer extends SyncerPeer {
  readonly mid: SbsInteger;
  readonly cid: SbsInteger;
}

export interface SyncerPeerRules {
  /** The server's own monitor group. */
  group: string;
  /** The server's own `engine.server_id`: a member claiming it is not a peer ([Q8]). */
  serverId: number;
  /** The server's `syncer_token`; when set, a peer must publish the same one. */
  syncerToken?: string | null;
}

export interface SkippedMember {
  readonly mid: SbsInteger;
  readonly cid: SbsInteger;
  readonly reason: string;
}

/**
 * The peers, one per server id; a later member claiming an id already taken replaces it, as in
 * Hat, and the earlier one is reported in `skipped`.
 */
export function findSyncerPeers(
  components: readonly ComponentInfo[],
  self: ComponentInfo | null,
  rules: SyncerPeerRules,
): { peers: MonitorSyncerPeer[]; skipped: SkippedMember[] } {
  const byServerId = new Map<number, MonitorSyncerPeer>();
  const skipped: SkippedMember[] = [];
  const skip = (info: { mid: SbsInteger; cid: SbsInteger }, reason: string): void => void skipped.push({ mid: info.mid, cid: info.cid, reason });
  for (const info of components) {
    // [Q7] Ourselves by identity (mid, cid), not by comparing whole entries.
    if (info.group !== rules.group || (self !== null && sameComponent(info, self))) continue;
    const data = info.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      skip(info, 'data is not an object');
      continue;
    }
    const serverId = data['server_id'];
    const address = data['syncer_server_address'];
    if (typeof serverId !== 'number' || !Number.isSafeInteger(serverId)) {
      skip(info, 'no integer server_id');
      continue;
    }
    if (typeof address !== 'string') {
      skip(info, 'no syncer_server_address string');
      continue;
    }
    try {
      parseAddress(address);
    } catch (error) {
      skip(info, describeError(error));
      continue;
    }
    if (rules.syncerToken != null && data['syncer_token'] !== rules.syncerToken) {
      skip(info, 'syncer_token does not match ours');
      continue;
    }
    if (serverId === rules.serverId) {
      skip(info, `claims our own server_id ${serverId}`);
      continue;
    }
    const earlier = byServerId.get(serverId);
    if (earlier !== undefined) skip(earlier, `server_id ${serverId} is claimed again later in the list`);
    byServerId.set(serverId, { serverId, address, mid: info.mid, cid: info.cid });
  }
  return { peers: [...byServerId.values()], skipped };
}
