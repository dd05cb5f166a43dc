// A logger (the server's own, at debug level) that keeps every line logged through it and its
// children as "<level>: <message>", for tests that assert what a component said.
import { Writable } from 'node:stream';
import type { Logger } from '../../src/common/logger.ts';
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
