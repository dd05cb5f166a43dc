// Register-time conditions (docs/configuration.md, "lmdb"): every configured entry whose subscription
// matches the event type must hold. JSON equality is strict ([Q], docs/differences.md: Python's `true == 1`).
import { jsonEqual } from '../../common/payload.ts';
import { Subscription } from '../../common/subscription.ts';
import type { Event, JsonValue } from '../../common/types.ts';
import type { ConditionConf, JsonDataType, JsonPath, LmdbBackendConf } from './conf.ts';

type Check = (event: Event) => boolean;

export class Conditions {
  readonly #entries: { subscription: Subscription; check: Check }[];

  constructor(conf: LmdbBackendConf['conditions']) {
    this.#entries = conf.map((entry) => ({
      subscription: new Subscription(entry.subscriptions),
      check: compileCondition(entry.condition),
    }));
  }

  get empty(): boolean {
    return this.#entries.length === 0;
  }

  matches(event: Event): boolean {
    for (const { subscription, check } of this.#entries) {
      if (subscription.matches(event.type) && !check(event)) return false;
    }
    return true;
  }
}

function compileCondition(conf: ConditionConf): Check {
  switch (conf.type) {
    case 'all': {
      const checks = conf.conditions.map(compileCondition);
      return (event) => checks.every((check) => check(event));
    }
    case 'any': {
      const checks = conf.conditions.map(compileCondition);
      return (event) => checks.some((check) => check(event));
    }
    case 'json': {
      const path = flattenPath(conf.data_path ?? []);
      const typeCheck = conf.data_type === undefined ? null : dataTypeCheck(conf.data_type);
      const hasValue = Object.hasOwn(conf, 'data_value');
      const expected = (conf.data_value ?? null) as JsonValue;
      return (event) => {
        if (event.payload === null || event.payload.type !== 'json') return false;
        const data = getPath(event.payload.data, path);
        if (typeCheck !== null && !typeCheck(data)) return false;
        return !hasValue || jsonEqual(data, expected);
      };
    }
    default:
      throw new TypeError(`unknown condition type: ${String((conf as { type: unknown }).type)}`);
  }
}

function flattenPath(path: JsonPath): (string | number)[] {
  return Array.isArray(path) ? path.flatMap(flattenPath) : [path];
}

/** Walks objects by key and arrays by index (negative = from the end); missing is null. */
function getPath(data: JsonValue, path: (string | number)[]): JsonValue {
  let current: JsonValue = data;
  for (const segment of path) {
    if (typeof segment === 'string') {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, segment)) {
        return null;
      }
      current = current[segment] as JsonValue;
    } else {
      if (!Array.isArray(current)) return null;
      const index = segment < 0 ? current.length + segment : segment;
      if (index < 0 || index >= current.length) return null;
      current = current[index] as JsonValue;
    }
  }
  return current;
}

function dataTypeCheck(type: JsonDataType): (data: JsonValue) => boolean {
  switch (type) {
    case 'null': return (d) => d === null;
    case 'boolean': return (d) => typeof d === 'boolean';
    case 'string': return (d) => typeof d === 'string';
    case 'number': return (d) => typeof d === 'number';
    case 'array': return (d) => Array.isArray(d);
    case 'object': return (d) => d !== null && typeof d === 'object' && !Array.isArray(d);
  }
}
