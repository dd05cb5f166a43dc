// The CLI: the command word picks the server (read and check the configuration, run until a
// signal) or an operator command (lmdb.ts, eventer.ts, bench.ts); the outcome becomes an exit
// status (0 clean stop, 1 failure, 2 bad usage/config).
import { ConfigError } from '../config/errors.ts';
import { loadConfigFile, type LoadedConfig } from '../config/file.ts';
import { prepareServerConf } from '../config/prepare.ts';
import { defaultServerConf, defaultServerConfYaml } from '../config/default.ts';
import { createLogger } from '../server/logger.ts';
import { startServer, type RunningServer } from '../server/run-server.ts';
import { packageVersion } from './version.ts';
import { defaultIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.ts';
import { parseCommand, UsageError, type Command, type Tool } from './args.ts';
import { runBenchCommand } from './bench.ts';
import { runEventerCommand } from './eventer.ts';
import { runLmdbCommand } from './lmdb.ts';
import { MAIN_HELP, SERVER_HELP } from './help.ts';
import { describeError } from '../common/describe-error.ts';
import { takeNodeWarnings } from '../common/node-warnings.ts';
import type { Logger } from '../common/logger.ts';

const TOOL_COMMANDS: Record<Tool, (args: string[], io: CliIo) => Promise<number>> = {
  lmdb: runLmdbCommand,
  eventer: runEventerCommand,
  bench: runBenchCommand,
};

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
    case 'tool':
      return runTool(command.tool, command.args, io);
  }
}

/** An operator command: a usage error exits 2, any other error 1, each as one line. */
async function runTool(tool: Tool, args: string[], io: CliIo): Promise<number> {
  try {
    return await TOOL_COMMANDS[tool](args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`hat-event-ts: ${err.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`hat-event-ts: error: ${describeError(err)}\n`);
    return EXIT_FAILURE;
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
  const log = logger.child('cli');
  // Handlers first: a signal during the start (or just after its last line) must not kill the
  // process mid-way; the server stops as soon as it has started.
  let server: RunningServer | null = null;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      log.info(server === null ? 'signal received during the start, stopping once started' : 'signal received, stopping', { signal });
      void server?.close();
    } else {
      log.warning('second signal, exiting without a clean stop', { signal });
      io.exit(EXIT_FAILURE);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      server = await startServer(prepared, logger);
    } catch (err) {
      io.stderr.write(`hat-event-ts: error: ${describeError(err)}\n`);
      return EXIT_FAILURE;
    }
    if (signals > 0) void server.close();
    await server.closed;
    return server.failure === undefined ? EXIT_OK : EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
