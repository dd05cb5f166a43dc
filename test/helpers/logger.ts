// Loggers for tests that assert what a component said.
import { Writable } from 'node:stream';
import type { LevelName, LogFields, Logger } from '../../src/common/logger.ts';
import { createLogger } from '../../src/server/logger.ts';

/**
 * The server's own logger, at debug level, keeping every line logged through it and its children
 * as "<level>: <message>", followed by the fields as JSON when there are any.
 */
export function recordingLogger(lines: string[]): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const { level, msg, time: _time, logger: _logger, ...fields } = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
      lines.push(`${String(level)}: ${String(msg)}${Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''}`);
      done();
    },
  });
  return createLogger({ level: 'DEBUG', format: 'json' }, { stream, name: 'test' });
}

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

/** A logger that keeps every call as it was made (fields as given), for checks on fields and counts. */
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
