// The CLI: parse arguments, read and check the configuration, run the server until a signal,
// and turn the outcome into an exit status (0 clean stop, 1 failure, 2 bad usage/config).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { ConfigError } from '../config/errors.ts';
import { loadConfigFile, type LoadedConfig } from '../config/file.ts';
import { prepareServerConf } from '../config/prepare.ts';
import { defaultServerConf, defaultServerConfYaml } from '../config/default.ts';
import { createLogger } from '../server/logger.ts';
import { startServer } from '../server/run-server.ts';
import { parseCommand, UsageError, type Command } from './args.ts';
import { MAIN_HELP, SERVER_HELP } from './help.ts';
import { describeError } from '../common/describe-error.ts';
import { takeNodeWarnings } from '../common/node-warnings.ts';
import type { Logger } from '../common/logger.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  /** leaves at once (a second signal); default process.exit */
  exit: (code: number) => never;
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, exit: (code) => process.exit(code) });

export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`hat-event-ts: ${err.message}\n`);
    return EXIT_USAGE;
  }
  switch (command.kind) {
    case 'help':
      io.stdout.write(command.topic === 'main' ? MAIN_HELP : SERVER_HELP);
      return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
    case 'version':
      io.stdout.write(`${packageVersion()}\n`);
      return EXIT_OK;
    case 'print-default-conf':
      io.stdout.write(defaultServerConfYaml());
      return EXIT_OK;
    case 'server':
      return runServerCommand(command.conf, io);
  }
}

async function runServerCommand(confFile: string | null, io: CliIo): Promise<number> {
  // Node's warnings go into the log: until the configuration is read (loading a module can warn)
  // through a logger with the defaults, then through the configured one.
  let logger: Logger = createLogger({}, { stream: io.stderr });
  const giveBackWarnings = takeNodeWarnings((fields) => logger.child('process').warning('node warning', fields));
  try {
    return await serve(confFile, io, (configured) => (logger = configured));
  } finally {
    giveBackWarnings();
  }
}

async function serve(confFile: string | null, io: CliIo, useLogger: (logger: Logger) => Logger): Promise<number> {
  let prepared;
  try {
    const loaded: LoadedConfig = confFile === null
      ? { conf: defaultServerConf(), file: '(embedded default)', baseDir: process.cwd() }
      : await loadConfigFile(confFile);
    prepared = await prepareServerConf(loaded.conf, { baseDir: loaded.baseDir, source: loaded.file });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`${err.message}\n`);
    return EXIT_USAGE;
  }

  const logger = useLogger(createLogger(prepared.conf.log, { stream: io.stderr }));
  let server;
  try {
    server = await startServer(prepared, logger);
  } catch (err) {
    io.stderr.write(`hat-event-ts: error: ${describeError(err)}\n`);
    return EXIT_FAILURE;
  }
  const log = logger.child('cli');
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      log.info('signal received, stopping', { signal });
      void server.close();
    } else {
      log.warning('second signal, exiting without a clean stop', { signal });
      io.exit(EXIT_FAILURE);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await server.closed;
    return server.failure === undefined ? EXIT_OK : EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The version in the package.json nearest above this file (the package's own, from src/ and dist/ alike). */
function packageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
