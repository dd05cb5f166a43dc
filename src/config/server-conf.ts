// The server configuration (Hat's server.yaml structure; its schema is server.schema.json, beside).
import type { EngineConf } from '../engine/types.ts';

/** Python logging's dictConfig as Hat has it, plus `level` and `format` (server/logger.ts reads it). */
export interface LogConf {
  level?: string;
  format?: 'auto' | 'json' | 'text';
  root?: { level?: string };
  loggers?: Record<string, { level?: string }>;
  [key: string]: unknown;
}

export interface BackendConf {
  /** 'lmdb' | 'memory' | 'dummy', a file path or a package */
  module: string;
  [key: string]: unknown;
}

/** The eventer listener; the limits are optional here, the schema fills their defaults in. */
export interface EventerServerConf {
  address: string;
  pem_file?: string;
  ca_file?: string;
  require_client_certificate?: boolean;
  allowed_clients?: string[];
  allow_reserved_types?: boolean;
  max_connections?: number;
  max_frame_size?: number;
  max_input_bytes?: number;
  max_output_bytes?: number;
  max_json_depth?: number;
}

export interface MetricsServerConf {
  /** http://host:port */
  address: string;
  /** seconds an event may wait for its flush before /healthz answers 503 (the schema's default: 30) */
  max_flush_delay?: number;
}

export interface ServerConf {
  type?: 'event';
  version?: string;
  log?: LogConf;
  backend: BackendConf;
  engine: EngineConf;
  eventer_server: EventerServerConf;
  syncer_server?: { address: string; pem_file?: string; token?: string | null; subscriptions?: string[][] };
  /** Our extension: the servers to sync from (Hat finds them through Hat Monitor). */
  syncer_peers?: SyncerPeerConf[];
  /** off when absent */
  metrics_server?: MetricsServerConf;
  syncer_token?: string;
  synced_restart_engine?: boolean;
  monitor?: Record<string, unknown>;
  mariner_server?: Record<string, unknown>;
}

export interface SyncerPeerConf {
  server_id: number;
  address: string;
}
