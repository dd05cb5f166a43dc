// The package root: everything docs/api.md describes, importable from 'hat-event-ts'.
export * from './common/index.ts';

export type { Resource } from './common/resource.ts';

export type { Backend, BackendDeps, BackendModule } from './backends/backend.ts';
export { createDummyBackend } from './backends/dummy.ts';
export { createMemoryBackend } from './backends/memory.ts';
export { createLmdbBackend } from './backends/lmdb/backend.ts';
export type { LmdbBackendConf } from './backends/lmdb/conf.ts';

export * from './engine/index.ts';

export { connectEventer, EncodedRegisterRequest } from './eventer/client.ts';
export type { EventerClient, EventerClientOptions } from './eventer/client.ts';
export { createEventerServer } from './eventer/server.ts';
export type { EventerServer, EventerServerOptions } from './eventer/server.ts';
export type { EventerEngine } from './eventer/eventer-engine.ts';
export { createEventerFollower } from './eventer/follower.ts';
export type { ActiveServer, EventerFollower, EventerFollowerOptions } from './eventer/follower.ts';

export * from './monitor/index.ts';

export * from './syncer/index.ts';

export * from './server/index.ts';
