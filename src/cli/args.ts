// Command-line arguments: `hat-event-ts server [--conf FILE] [--print-default-conf]`.
import { parseArgs } from 'node:util';
import { describeError } from '../common/describe-error.ts';

export type Command =
  | { kind: 'help'; topic: 'main' | 'server' }
  | { kind: 'version' }
  | { kind: 'print-default-conf' }
  | { kind: 'server'; conf: string | null };

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
