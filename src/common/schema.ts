// JSON schemas compiled with ajv (defaults filled in): the server's own from schemas/, and the
// confSchema of each backend and module.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { problemsFromAjv, type ConfigProblem } from '../config/errors.ts';
import { describeError } from './describe-error.ts';

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
const compiled = new WeakMap<object, ValidateFunction>();

/** The folder of the package's `schemas/`, found upwards from this file (works from src/ and dist/). */
export function schemasDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'src', 'config', 'server.schema.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the schemas/ folder of hat-event-ts');
    dir = parent;
  }
}

let serverSchema: object | undefined;

export function loadServerSchema(): object {
  serverSchema ??= JSON.parse(readFileSync(path.join(schemasDir(), 'src', 'config', 'server.schema.json'), 'utf8')) as object;
  return serverSchema;
}

/** Validates `data` in place (filling defaults); problems are reported below `prefix`. */
export function validateWithSchema(schema: object, data: unknown, prefix = ''): ConfigProblem[] {
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
