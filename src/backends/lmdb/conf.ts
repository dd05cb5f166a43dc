// The LMDB backend configuration (Hat's `hat-event://backends/lmdb.yaml#`, snake_case keys)
// and its JSON schema. Unknown keys are refused at every level (common/schema.ts), so a typo
// such as `max_db_sze` is an error instead of a setting silently left at nothing; `module`, the
// server's key for the section, is accepted.
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
  /** a query whose answer would hold more events fails instead (ours; default DEFAULT_MAX_QUERY_RESULTS) */
  max_query_results?: number;
}

export const DEFAULT_MAX_PENDING_BYTES = 128 * 1024 * 1024;

/** Generous: a million events are about 100 MB of answer. */
export const DEFAULT_MAX_QUERY_RESULTS = 1_000_000;

const eventTypes = { type: 'array', items: { type: 'array', items: { type: 'string' } } };

export const confSchema = {
  type: 'object',
  required: ['db_path', 'max_db_size', 'flush_period', 'conditions', 'latest', 'ordered'],
  properties: {
    db_path: { type: 'string', minLength: 1 },
    max_db_size: { type: 'number', exclusiveMinimum: 0 },
    flush_period: { type: 'number', minimum: 0 },
    max_pending_bytes: { type: 'number', minimum: 1024 * 1024 },
    max_query_results: { type: 'integer', minimum: 1 },
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
    // by its type, so that a problem is reported against the keys of that type only (each branch
    // lists every key of its type, so it closes itself)
    condition: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['all', 'any', 'json'] } },
      allOf: [
        {
          if: { required: ['type'], properties: { type: { enum: ['all', 'any'] } } },
          then: {
            required: ['conditions'],
            properties: { type: {}, conditions: { type: 'array', items: { $ref: '#/definitions/condition' } } },
            additionalProperties: false,
          },
        },
        {
          if: { required: ['type'], properties: { type: { const: 'json' } } },
          then: {
            properties: {
              type: {},
              data_path: { $ref: '#/definitions/path' },
              data_type: { enum: ['null', 'boolean', 'string', 'number', 'array', 'object'] },
              data_value: {},
            },
            additionalProperties: false,
          },
        },
      ],
    },
  },
} as const;

/** Throws a readable error unless `conf` satisfies `confSchema`. */
export function assertLmdbConf(conf: unknown): asserts conf is LmdbBackendConf {
  const problems = validateWithSchema(confSchema, conf, { ownerKeys: ['module'] });
  if (problems.length > 0) throw new TypeError(`invalid lmdb backend configuration: ${formatProblems(problems)}`);
}
