// A Logger that keeps every line it is given, for tests that check what was logged.
import type { LevelName, LogFields, Logger } from '../../src/common/logger.ts';

export interface CapturedLine {
  level: LevelName;
  logger: string;
  message: string;
  fields: LogFields;
}

export interface CaptureLogger extends Logger {
  readonly lines: CapturedLine[];
  /** Every line as `message {fields as JSON}`, one per line, for regex checks. */
  text(): string;
}

export function captureLogger(name = 'test', lines: CapturedLine[] = []): CaptureLogger {
  const at = (level: LevelName) => (message: string, fields: LogFields = {}): void => {
    lines.push({ level, logger: name, message, fields });
  };
  return {
    name, lines,
    debug: at('debug'), info: at('info'), warning: at('warning'), error: at('error'), critical: at('critical'),
    isEnabled: () => true,
    child: (suffix) => captureLogger(`${name}.${suffix}`, lines),
    text: () => lines.map((l) => `${l.message} ${JSON.stringify(l.fields)}`).join('\n'),
  };
}
