// The LMDB backend configuration (Hat's `hat-event://backends/lmdb.yaml#`, snake_case keys)
// and its JSON schema. Extra top-level keys (the server passes e.g. `server_id`) are allowed.
import type { EventType, JsonValue } from '../../common/types.ts';
import { formatProblems, validateWithSchema } from '../../common/schema.ts';

export type JsonPath = string | number | JsonPath[];

export type JsonDataType = 'null' | 'boolean' | 'string' | 'number' | 'array' | 'object';

export type ConditionConf =
  | { type: 'all'; conditions: ConditionConf[] }
  | { type: 'any'; conditions: ConditionConf[] }
  | { type: 'json'; data_path?: JsonPath; data_type?: JsonDataType; data_value?: JsonValue };

export interface LimitConf {
  min_entries?: number;
  max_entries?: number;
  /** seconds */
  duration?: number;
  /** bytes */
  size?: number;
}

export type OrderByName = 'TIMESTAMP' | 'SOURCE_TIMESTAMP';

export interface OrderedConf {
  order_by: OrderByName;
  subscriptions: EventType[];
  limit?: LimitConf;
}

export interface LmdbBackendConf {
  db_path: string;
  /** LMDB map size in bytes: the most the file may hold; environment.ts never maps less than MIN_MAP_SIZE */
  max_db_size: number;
  /** seconds between flushes; 0 = every register is durable before it resolves */
  flush_period: number;
  /**
   * Ours: memory that accepted events not yet written may take (estimated, bytes). Half of it
   * starts a flush before the period ends; while the store cannot write, registrations past it
   * are refused. Default DEFAULT_MAX_PENDING_BYTES.
   */
  max_pending_bytes?: number;
  conditions: { subscriptions: EventType[]; condition: ConditionConf }[];
  latest: { subscriptions: EventType[] };
  ordered: OrderedConf[];
  [extra: string]: unknown;
}

export const DEFAULT_MAX_PENDING_BYTES = 128 * 1024 * 1024;

const eventTypes = { type: 'array', items: { type: 'array', items: { type: 'string' } } };

export const confSchema = {
  type: 'object',
  required: ['db_path', 'max_db_size', 'flush_period', 'conditions', 'latest', 'ordered'],
  properties: {
    db_path: { type: 'string', minLength: 1 },
    max_db_size: { type: 'number', exclusiveMinimum: 0 },
    flush_period: { type: 'number', minimum: 0 },
    max_pending_bytes: { type: 'number', minimum: 1024 * 1024 },
    conditions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['subscriptions', 'condition'],
        properties: { subscriptions: eventTypes, condition: { $ref: '#/definitions/condition' } },
      },
    },
    latest: { type: 'object', required: ['subscriptions'], properties: { subscriptions: eventTypes } },
    ordered: {
      type: 'array',
      items: {
        type: 'object',
        required: ['order_by', 'subscriptions'],
        properties: {
          order_by: { enum: ['TIMESTAMP', 'SOURCE_TIMESTAMP'] },
          subscriptions: eventTypes,
          limit: {
            type: 'object',
            properties: {
              min_entries: { type: 'number', minimum: 0 },
              max_entries: { type: 'number', minimum: 0 },
              duration: { type: 'number', minimum: 0 },
              size: { type: 'number', minimum: 0 },
            },
          },
        },
      },
    },
  },
  definitions: {
    path: {
      oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'array', items: { $ref: '#/definitions/path' } }],
    },
    condition: {
      type: 'object',
      required: ['type'],
      oneOf: [
        {
          properties: {
            type: { enum: ['all', 'any'] },
            conditions: { type: 'array', items: { $ref: '#/definitions/condition' } },
          },
          required: ['conditions'],
        },
        {
          properties: {
            type: { const: 'json' },
            data_path: { $ref: '#/definitions/path' },
            data_type: { enum: ['null', 'boolean', 'string', 'number', 'array', 'object'] },
            data_value: {},
          },
        },
      ],
    },
  },
} as const;

/** Throws a readable error unless `conf` satisfies `confSchema`. */
export function assertLmdbConf(conf: unknown): asserts conf is LmdbBackendConf {
  const problems = validateWithSchema(confSchema, conf);
  if (problems.length > 0) throw new TypeError(`invalid lmdb backend configuration: ${formatProblems(problems)}`);
}
