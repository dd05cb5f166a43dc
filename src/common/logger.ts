// The one logging interface every layer takes (Python logging's level names, as in Hat's
// server.yaml). The server's implementation (JSON lines or text on stderr) is server/logger.ts.

export type LevelName = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export const LEVELS: Record<LevelName, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

export type LogFields = Record<string, unknown>;

/**
 * A logger whose lines go to a file descriptor (the server's stderr), described so that another
 * thread can write lines of the same form there itself (formatLogLine, fs.writeSync): the engine's
 * watchdog, which must log while the main thread is blocked.
 */
export interface FdLogTarget {
  fd: number;
  format: 'json' | 'text';
  name: string;
  /** The lowest level written (LEVELS). */
  threshold: number;
}

export interface Logger {
  readonly name: string;
  /** Set when lines go straight to a file descriptor. */
  readonly fdTarget?: FdLogTarget;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  critical(message: string, fields?: LogFields): void;
  isEnabled(level: LevelName): boolean;
  /** A logger named `<this name>.<suffix>`, with its own level from the configuration. */
  child(suffix: string): Logger;
}

/** A logger that drops everything (runServer's default when the caller passes none). */
export function silentLogger(name = 'hat.event'): Logger {
  const drop = (): void => {};
  return {
    name, debug: drop, info: drop, warning: drop, error: drop, critical: drop,
    isEnabled: () => false,
    child: (suffix) => silentLogger(`${name}.${suffix}`),
  };
}

/** One log line (without its newline): a JSON object, or readable text. */
export function formatLogLine(format: 'json' | 'text', name: string, level: LevelName, message: string, fields?: LogFields): string {
  const time = new Date().toISOString();
  return format === 'json'
    ? JSON.stringify({ time, level, logger: name, msg: message, ...plain(fields) })
    : `${time} ${level.toUpperCase().padEnd(8)} ${name}: ${message}${textFields(fields)}`;
}

/**
 * Errors become {name, message, stack, cause} so they survive JSON.stringify. The stack is where to
 * look: a module's failure is the engine's error with the module's own as its cause, whose stack
 * has the file and line in the module (carried over from its thread).
 */
function plain(fields: LogFields | undefined): LogFields {
  if (!fields) return {};
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? errorFields(value) : value;
  return out;
}

function errorFields(error: Error): LogFields {
  const out: LogFields = { name: error.name, message: error.message };
  if (error.stack !== undefined) out['stack'] = error.stack;
  if (error.cause instanceof Error) out['cause'] = errorFields(error.cause);
  return out;
}

function textFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  const parts = Object.entries(plain(fields)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? ` (${parts.join(' ')})` : '';
}
