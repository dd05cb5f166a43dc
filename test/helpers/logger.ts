// Loggers for tests that assert what a component said: recordingLogger (the server's own, at
// debug level) keeps each line as "<level>: <message>"; entryLogger keeps each entry with its
// logger name and fields.
import { Writable } from 'node:stream';
import type { Logger, LevelName, LogFields } from '../../src/common/logger.ts';
import { createLogger } from '../../src/server/logger.ts';

export function recordingLogger(lines: string[]): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const record = JSON.parse(chunk.toString('utf8')) as { level: string; msg: string };
      lines.push(`${record.level}: ${record.msg}`);
      done();
    },
  });
  return createLogger({ level: 'DEBUG', format: 'json' }, { stream, name: 'test' });
}

export interface LogEntry { level: LevelName; name: string; message: string; fields: LogFields }

/** A Logger that keeps every entry with its logger name and fields (all levels enabled). */
export function entryLogger(entries: LogEntry[] = [], name = 'hat.event'): Logger & { entries: LogEntry[] } {
  const at = (level: LevelName) => (message: string, fields: LogFields = {}): void => {
    entries.push({ level, name, message, fields });
  };
  return {
    name, entries,
    debug: at('debug'), info: at('info'), warning: at('warning'), error: at('error'), critical: at('critical'),
    isEnabled: () => true,
    child: (suffix) => entryLogger(entries, `${name}.${suffix}`),
  };
}

/** Log entries as one line each, for matching. */
export const logLines = (entries: LogEntry[]): string[] =>
  entries.map((e) => `${e.level} ${e.name}: ${e.message} ${JSON.stringify(e.fields)}`);
