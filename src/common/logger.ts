// The one logging interface every layer takes (Python logging's level names, as in Hat's
// server.yaml). The server's implementation (JSON lines or text on stderr) is server/logger.ts.

export type LevelName = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export const LEVELS: Record<LevelName, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly name: string;
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

