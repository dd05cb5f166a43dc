// JSON schema validation, one way for every configuration (the server's, each backend's and each
// module's confSchema): one ajv set-up (every error, defaults filled in), one rule for unknown keys,
// and one form of the problems it finds — where (a JSON pointer) and what was expected.
//
// The rule: an object schema that lists its `properties` takes those keys and no others, unless it
// says otherwise itself (additionalProperties, or a combination such as allOf that may declare
// more; keys that match its patternProperties are its too). So a key only has to be declared to be
// accepted, and a typo anywhere is an error naming the key, with the declared key it most likely
// meant. The rule applies to schemas that describe a whole value (the root, a property's, an
// item's, a definition's), not to the branches of allOf/anyOf/oneOf or if/then/else, which may
// describe part of one: a branch that lists every key closes itself with additionalProperties.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { describeError } from './describe-error.ts';

export interface SchemaProblem {
  /** JSON pointer into the validated document ('' = the whole document) */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** the JSON pointer of the validated value in the whole document; problems are reported below it */
  prefix?: string;
  /**
   * Keys of the section that its owner checks, not the schema (a module entry's `module` and
   * `workers`, a backend section's `module`): known to the schema's top level too.
   */
  ownerKeys?: readonly string[];
}

// verbose: an error carries its schema, so an unknown key can be compared with the declared ones
const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
const compiled = new WeakMap<object, Map<string, ValidateFunction>>();

/** Validates `data` in place (filling defaults); an empty list when it is valid. */
export function validateWithSchema(schema: object, data: unknown, opts: ValidateOptions = {}): SchemaProblem[] {
  const prefix = opts.prefix ?? '';
  const ownerKeys = opts.ownerKeys ?? [];
  const cacheKey = ownerKeys.join('\u0000');
  let byOwnerKeys = compiled.get(schema);
  if (!byOwnerKeys) compiled.set(schema, (byOwnerKeys = new Map()));
  let validate = byOwnerKeys.get(cacheKey);
  if (!validate) {
    try {
      validate = ajv.compile(closeObjects(withOwnerKeys(schema, ownerKeys)) as object);
    } catch (err) {
      return [{ path: prefix, message: `the schema for this part is not a valid JSON schema: ${describeError(err)}` }];
    }
    byOwnerKeys.set(cacheKey, validate);
  }
  return validate(data) ? [] : problemsFromAjv(validate.errors, prefix);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function withOwnerKeys(schema: object, ownerKeys: readonly string[]): object {
  const properties = (schema as { properties?: unknown }).properties;
  if (ownerKeys.length === 0 || !isObject(properties)) return schema;
  return { ...schema, properties: { ...Object.fromEntries(ownerKeys.map((key) => [key, {}])), ...properties } };
}

/** Keywords by which a schema decides itself what other keys an object may have. */
const OPEN_KEYWORDS = ['additionalProperties', 'unevaluatedProperties', 'allOf', 'anyOf', 'oneOf', '$ref', 'if', 'dependencies', 'dependentSchemas'];
/**
 * Where subschemas sit, as maps, single ones or lists, and whether each describes a whole value
 * (false: a branch). `if`, `not` and the like are left as written.
 */
const SCHEMA_MAPS: Record<string, boolean> = { properties: true, patternProperties: true, definitions: true, $defs: true };
const SCHEMA_SINGLE: Record<string, boolean> = { items: true, additionalItems: true, additionalProperties: true, then: false, else: false };
const SCHEMA_LISTS: Record<string, boolean> = { items: true, prefixItems: true, allOf: false, anyOf: false, oneOf: false };

/** A copy of `schema` with the unknown-key rule applied to every whole-value object schema in it. */
function closeObjects(schema: unknown, whole = true): unknown {
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = { ...schema };
  for (const [key, wholeValue] of Object.entries(SCHEMA_MAPS)) {
    const map = out[key];
    if (isObject(map)) out[key] = Object.fromEntries(Object.entries(map).map(([name, sub]) => [name, closeObjects(sub, wholeValue)]));
  }
  for (const [key, wholeValue] of Object.entries(SCHEMA_SINGLE)) if (isObject(out[key])) out[key] = closeObjects(out[key], wholeValue);
  for (const [key, wholeValue] of Object.entries(SCHEMA_LISTS)) {
    if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map((sub) => closeObjects(sub, wholeValue));
  }
  if (whole && isObject(out['properties']) && !OPEN_KEYWORDS.some((key) => key in schema)) out['additionalProperties'] = false;
  return out;
}

/** `path: message`, with '/' for the whole document. */
export function formatProblem(problem: SchemaProblem): string {
  return `${problem.path === '' ? '/' : problem.path}: ${problem.message}`;
}

/** Several problems on one line, for a thrown error. */
export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map(formatProblem).join('; ');
}

/** Turns ajv's errors into problems, below `prefix` (the JSON pointer of the validated value). */
function problemsFromAjv(errors: readonly ErrorObject[] | null | undefined, prefix = ''): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    // oneOf/anyOf report every failed branch and then a summary; the summary is the useful line
    if (error.keyword === 'if') continue;
    const problem = error.keyword === 'additionalProperties'
      ? unknownKey(prefix + error.instancePath, error)
      : { path: prefix + error.instancePath, message: describeAjvError(error) };
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function describeAjvError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing required property '${String(params['missingProperty'])}'`;
    case 'enum':
      return `expected one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `expected ${JSON.stringify(params['allowedValue'])}`;
    case 'type':
      return `expected ${String(params['type'])}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `expected a number ${String(params['comparison'])} ${String(params['limit'])}`;
    case 'minItems':
      return `expected at least ${String(params['limit'])} item(s)`;
    case 'maxItems':
      return `expected at most ${String(params['limit'])} item(s)`;
    case 'minLength':
      return `expected at least ${String(params['limit'])} character(s)`;
    case 'pattern':
      return `expected a string matching ${String(params['pattern'])}`;
    default:
      return `expected a value that ${error.message ?? 'is valid'}`;
  }
}

/** An unknown key, at its own path, with the declared key it most likely meant (or the declared ones). */
function unknownKey(parentPath: string, error: ErrorObject): SchemaProblem {
  const key = String((error.params as { additionalProperty: unknown }).additionalProperty);
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const known = Object.keys(properties);
  const meant = closestKey(key, known);
  const hint = meant !== undefined ? `did you mean ${meant}?` : known.length > 0 ? `known keys: ${known.join(', ')}` : 'no keys are known here';
  return { path: `${parentPath}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, message: `unknown key (${hint})` };
}

/**
 * The known key nearest to `key` in edits (insert, delete, replace, swap two neighbours; case and
 * '-' against '_' not counted), if it is within a third of the key's length (at least one edit, and
 * fewer edits than the key has characters: `g` is not a typo of `a`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replaceAll('-', '_');
  const limit = Math.min(Math.max(1, Math.floor(key.length / 3)), key.length - 1);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(norm(key), norm(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent swaps). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
