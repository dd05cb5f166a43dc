// What a command reads and writes, and its exit statuses (the server's, for every command).
import type { Readable, Writable } from 'node:stream';

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

