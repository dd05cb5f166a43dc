// Configuration problems: each names where (file and JSON path) and what was expected, so a
// user can fix every one of them from a single run.
import type { ErrorObject } from 'ajv';

export interface ConfigProblem {
  /** JSON pointer into the configuration ('' = the whole document) */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    /** the configuration file, or a description such as '(embedded default)' */
    readonly source: string,
  ) {
    super(problems.map((p) => formatProblem(source, p)).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(source: string, problem: ConfigProblem): string {
  return `${source}: ${problem.path === '' ? '/' : problem.path}: ${problem.message}`;
}

/** Turns ajv's errors into problems, below `prefix` (the JSON pointer of the validated value). */
export function problemsFromAjv(errors: readonly ErrorObject[] | null | undefined, prefix = ''): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
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
