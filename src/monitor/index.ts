// Hat Monitor: the client, its component list, and the Component that runs only while blessed.
export { connectMonitorClient } from './client.ts';
export type { MonitorClient, MonitorClientConf, MonitorClientOptions } from './client.ts';
export { createMonitorComponent } from './component.ts';
export type { ComponentRun, ComponentState, MonitorComponent, MonitorComponentOptions, RunContext } from './component.ts';
export { isActive, sameComponent } from './component-info.ts';
export type { ComponentInfo } from './component-info.ts';
export { findSyncerPeers } from './syncer-peers.ts';
export type { MonitorSyncerPeer, SkippedMember, SyncerPeerRules } from './syncer-peers.ts';
export type { BlessingReq, BlessingRes, SbsInteger } from '../sbs/monitor-messages.ts';
