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
  eventer_server: { address: string; pem_file?: string };
  /** off when absent */
  metrics_server?: MetricsServerConf;
  syncer_server?: { address: string; token?: string | null; subscriptions?: string[][] };
  syncer_token?: string;
  synced_restart_engine?: boolean;
  monitor?: Record<string, unknown>;
  mariner_server?: Record<string, unknown>;
}
