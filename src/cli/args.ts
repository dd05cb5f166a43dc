// Command-line arguments: the command word, `server`'s options, and the helpers the operator
// commands (lmdb.ts, eventer.ts, bench.ts) parse theirs with.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeError } from '../common/describe-error.ts';

export const TOOLS = ['lmdb', 'eventer', 'bench'] as const;

export type Tool = (typeof TOOLS)[number];

export type Command =
  | { kind: 'help'; topic: 'main' | 'server' }
  | { kind: 'version' }
  | { kind: 'print-default-conf' }
  | { kind: 'server'; conf: string | null }
  | { kind: 'tool'; tool: Tool; args: string[] };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { kind: 'help', topic: 'main' };
  if (command === '--version' || command === '-V') return { kind: 'version' };
  if ((TOOLS as readonly string[]).includes(command)) return { kind: 'tool', tool: command as Tool, args: rest };
  if (command !== 'server') throw new UsageError(`unknown command '${command}' (try --help)`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        conf: { type: 'string', short: 'c' },
        'print-default-conf': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(`${describeError(err)} (try hat-event-ts server --help)`);
  }
  const { values } = parsed;
  if (values.help) return { kind: 'help', topic: 'server' };
  if (values['print-default-conf']) {
    if (values.conf !== undefined) throw new UsageError('--print-default-conf takes no --conf');
    return { kind: 'print-default-conf' };
  }
  if (values.conf === '') throw new UsageError('--conf needs a file name');
  return { kind: 'server', conf: values.conf ?? null };
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export type ToolArgs<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>>;

/** Options and positionals of an operator command, strictly: an unknown option is a UsageError. */
export function parseToolArgs<T extends Options>(tool: Tool, args: readonly string[], options: T): ToolArgs<T> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(`${describeError(err)} (try hat-event-ts ${tool} --help)`);
  }
}

/** Refuses the options in `given` that `allowed` does not list (options of another subcommand). */
export function onlyOptions(command: string, given: object, allowed: readonly string[]): void {
  for (const name of Object.keys(given)) {
    if (name !== 'help' && !allowed.includes(name)) throw new UsageError(`${command} takes no --${name} (try hat-event-ts ${command.split(' ')[0]} --help)`);
  }
}

/** An integer option (null when absent) of at least `min`. */
export function integerArg(value: string | undefined, name: string, min = 0): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer of at least ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** A number option (`fallback` when absent) greater than `above`, or at least it when `orEqual`. */
export function numberArg(value: string | undefined, name: string, fallback: number, above = 0, orEqual = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < above || (n === above && !orEqual)) {
    throw new UsageError(`--${name}: expected a number ${orEqual ? 'of at least' : 'above'} ${above}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `1,10,100` -> [1, 10, 100]: integers of at least `min`, in the order given, without repeats. */
export function integerListArg(value: string | undefined, name: string, fallback: number[], min = 1): number[] {
  if (value === undefined) return fallback;
  const items = value.split(',').map((item) => integerArg(item, name, min)!);
  return [...new Set(items)];
}
