// JSON schema validation, one way for every configuration (the server's, each backend's and each
// module's confSchema): one ajv set-up (every error, defaults filled in), and one form of the
// problems it finds — where (a JSON pointer) and what was expected.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { describeError } from './describe-error.ts';

export interface SchemaProblem {
  /** JSON pointer into the validated document ('' = the whole document) */
  path: string;
  message: string;
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
const compiled = new WeakMap<object, ValidateFunction>();

/** Validates `data` in place (filling defaults); problems are reported below `prefix`. */
export function validateWithSchema(schema: object, data: unknown, prefix = ''): SchemaProblem[] {
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      return [{ path: prefix, message: `the schema for this part is not a valid JSON schema: ${describeError(err)}` }];
    }
    compiled.set(schema, validate);
  }
  return validate(data) ? [] : problemsFromAjv(validate.errors, prefix);
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
    const path = prefix + error.instancePath;
    const problem = { path, message: describeAjvError(error) };
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
    case 'additionalProperties':
      return `unknown property '${String(params['additionalProperty'])}'`;
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
