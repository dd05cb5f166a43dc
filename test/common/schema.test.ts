// The one validation of every configuration schema (src/common/schema.ts): an object schema that
// lists its properties takes no other keys unless it says so, and an unknown key is named at its
// own path with the declared key it most likely meant.
import { describe, expect, it } from 'vitest';
import { closestKey, formatProblem, validateWithSchema } from '../../src/common/schema.ts';

const problems = (schema: object, data: unknown, opts = {}): string[] => validateWithSchema(schema, data, opts).map(formatProblem);

describe('unknown keys', () => {
  it('are refused in every object that lists its properties, however deep, each at its own path', () => {
    const schema = {
      type: 'object',
      properties: {
        a: { type: 'object', properties: { b: { type: 'array', items: { type: 'object', properties: { c: {} } } } } },
        defs: { $ref: '#/definitions/d' },
      },
      definitions: { d: { type: 'object', properties: { e: {} } } },
    };
    expect(problems(schema, { a: { b: [{ c: 1 }, { c: 1, cc: 2 }] }, defs: { e: 1, f: 2 }, g: 3 })).toEqual([
      '/g: unknown key (known keys: a, defs)',
      '/a/b/1/cc: unknown key (did you mean c?)',
      '/defs/f: unknown key (known keys: e)',
    ]);
  });

  it('a schema that says otherwise keeps its own rule: additionalProperties, combinations; patternProperties add keys', () => {
    const open = { type: 'object', properties: { a: {} }, additionalProperties: true };
    const typed = { type: 'object', properties: { a: {} }, additionalProperties: { type: 'number' } };
    const patterned = { type: 'object', properties: { a: {} }, patternProperties: { '^x_': {} } };
    const combined = { type: 'object', properties: { a: {} }, allOf: [{ properties: { b: {} } }] };
    // a branch may describe part of the value: it is not closed for it (this one declares only b)
    const branched = { type: 'object', properties: { a: {}, b: {} }, if: { required: ['a'] }, then: { properties: { b: { type: 'number' } } } };
    const unlisted = { type: 'object' };
    expect(problems(open, { a: 1, b: 2 })).toEqual([]);
    expect(problems(typed, { a: 1, b: 2, c: 'x' })).toEqual(['/c: expected number']);
    expect(problems(patterned, { a: 1, x_b: 2 })).toEqual([]);
    expect(problems(patterned, { a: 1, ab: 2 })).toEqual(['/ab: unknown key (did you mean a?)']);
    expect(problems(combined, { a: 1, b: 2 })).toEqual([]);
    expect(problems(branched, { a: 1, b: 2 })).toEqual([]);
    expect(problems(branched, { a: 1, b: 'x' })).toEqual(['/b: expected number']);
    expect(problems(unlisted, { anything: 1 })).toEqual([]);
  });

  it("an owner's keys are known to the section's schema; a misspelled required key is reported with the missing one", () => {
    const schema = { type: 'object', required: ['threshold'], properties: { threshold: { type: 'number' } } };
    expect(problems(schema, { module: 'x', workers: 1, threshold: 1 }, { ownerKeys: ['module', 'workers'] })).toEqual([]);
    expect(problems(schema, { module: 'x', threshhold: 1, worker: 2 }, { prefix: '/engine/modules/0', ownerKeys: ['module', 'workers'] })).toEqual([
      "/engine/modules/0: missing required property 'threshold'",
      '/engine/modules/0/threshhold: unknown key (did you mean threshold?)',
      '/engine/modules/0/worker: unknown key (did you mean workers?)',
    ]);
  });

  it('a key with / or ~ is escaped in its JSON pointer', () => {
    expect(problems({ type: 'object', properties: {} }, { 'a/b~c': 1 })).toEqual(['/a~1b~0c: unknown key (no keys are known here)']);
  });
});

describe('closestKey', () => {
  it('allows a third of the length in edits (at least one); case and - against _ are free', () => {
    const known = ['max_db_size', 'db_path', 'flush_period', 'root', 'level'];
    expect(closestKey('max_db_sze', known)).toBe('max_db_size');
    expect(closestKey('max-db-size', known)).toBe('max_db_size');
    expect(closestKey('DB_PATH', known)).toBe('db_path');
    expect(closestKey('rooot', known)).toBe('root');
    expect(closestKey('levle', known)).toBe('level'); // two letters swapped: one edit
    expect(closestKey('flushperiod', known)).toBe('flush_period');
    expect(closestKey('lvl', known)).toBeUndefined();
    expect(closestKey('g', ['a'])).toBeUndefined();
    expect(closestKey('server_id', known)).toBeUndefined();
  });
});
