// What a command reads and writes, and its exit statuses (the server's, for every command).
import type { Readable, Writable } from 'node:stream';
import { LEVELS, type Logger } from '../common/logger.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: Readable;
  /** leaves at once (a second signal); default process.exit */
  exit: (code: number) => never;
}

export const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, exit: (code) => process.exit(code) });


/** An operator command's logger: warnings and worse as `hat-event-ts: message` lines on stderr. */
export function commandLogger(io: CliIo, name = 'hat-event-ts'): Logger {
  const write = (message: string): void => void io.stderr.write(`hat-event-ts: ${message}\n`);
  const drop = (): void => {};
  return {
    name, debug: drop, info: drop, warning: write, error: write, critical: write,
    isEnabled: (level) => LEVELS[level] >= LEVELS.warning,
    child: (suffix) => commandLogger(io, `${name}.${suffix}`),
  };
}
