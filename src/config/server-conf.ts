// The server configuration (Hat's server.yaml structure, schemas/server.json).
import type { EngineConf } from '../engine/types.ts';
import type { LogConf } from '../server/logger.ts';

export interface BackendConf {
  /** 'lmdb' | 'memory' | 'dummy', a file path or a package */
  module: string;
  [key: string]: unknown;
}

export interface ServerConf {
  type?: 'event';
  version?: string;
  log?: LogConf;
  backend: BackendConf;
  engine: EngineConf;
  eventer_server: { address: string; pem_file?: string };
  syncer_server?: { address: string; token?: string | null; subscriptions?: string[][] };
  syncer_token?: string;
  synced_restart_engine?: boolean;
  monitor?: Record<string, unknown>;
  mariner_server?: Record<string, unknown>;
}
