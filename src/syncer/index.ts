// The Syncer: servers that replicate each other's events (HatSyncer, Hat 0.8.0-0.8.5), and the
// same stream as a library (`connectSyncer`).
export { createSyncerServer, DEFAULT_SYNCER_ADDRESS } from './server.ts';
export type { SyncerServer, SyncerServerOptions } from './server.ts';
export { createSyncerClient } from './client.ts';
export type { PeerState, SyncerClient, SyncerClientOptions, SyncerPeerInfo } from './client.ts';
export { staticPeers } from './peers.ts';
export type { PeerDiscovery, SyncerPeer } from './peers.ts';
export { connectSyncer } from './stream.ts';
export type { SyncerStream, SyncerStreamOptions } from './stream.ts';
export { flushedOnRegister } from './flushed-on-register.ts';
export { SYNCER_SOURCE } from './status.ts';
export type { StatusRegistrar, SyncerClientInfo } from './status.ts';
