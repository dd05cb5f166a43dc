// A logger (the server's own, at debug level) that keeps every line logged through it and its
// children as "<level>: <message>", followed by its fields as JSON when it has any, for tests
// that assert what a component said.
import { Writable } from 'node:stream';
import type { Logger } from '../../src/common/logger.ts';
import { createLogger } from '../../src/server/logger.ts';

export function recordingLogger(lines: string[]): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const { time: _time, logger: _logger, level, msg, ...fields } = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
      lines.push(`${String(level)}: ${String(msg)}${Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''}`);
      done();
    },
  });
  return createLogger({ level: 'DEBUG', format: 'json' }, { stream, name: 'test' });
}
