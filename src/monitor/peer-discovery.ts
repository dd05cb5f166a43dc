// The Syncer client's peers found through Hat Monitor (docs/protocol.md, "Syncer peers"): the
// rules of findSyncerPeers applied to every new component list, so peers that join are synced
// from and peers that leave are dropped ([Q9]: Hat keeps retrying vanished ones forever). Logs
// each peer that joins or leaves, and each member skipped, once per reason.
import type { Logger } from '../common/logger.ts';
import type { PeerDiscovery, SyncerPeer } from '../syncer/peers.ts';
import type { MonitorClient } from './client.ts';
import { findSyncerPeers, type SyncerPeerRules } from './syncer-peers.ts';

export function monitorPeerDiscovery(client: MonitorClient, rules: SyncerPeerRules, log: Logger): PeerDiscovery {
  return {
    watch(onPeers) {
      let known = new Map<string, SyncerPeer>();
      let skippedBefore = new Set<string>();
      const update = (): void => {
        const { peers, skipped } = findSyncerPeers(client.components, client.info, rules);
        const now = new Map(peers.map((p) => [`${p.serverId} ${p.address}`, p]));
        for (const [key, peer] of known) {
          if (!now.has(key)) log.info('syncer peer left', { server_id: peer.serverId, address: peer.address });
        }
        for (const [key, peer] of now) {
          if (!known.has(key)) log.info('syncer peer joined', { server_id: peer.serverId, address: peer.address });
        }
        const skippedNow = new Set<string>();
        for (const s of skipped) {
          const key = `${s.mid} ${s.cid} ${s.reason}`;
          skippedNow.add(key);
          if (!skippedBefore.has(key)) log.warning('monitor group member not synced from', { mid: String(s.mid), cid: String(s.cid), reason: s.reason });
        }
        known = now;
        skippedBefore = skippedNow;
        onPeers(peers.map((p) => ({ serverId: p.serverId, address: p.address })));
      };
      const stop = client.onChange(update);
      update();
      return stop;
    },
  };
}
