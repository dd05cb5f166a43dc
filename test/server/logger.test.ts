// Log levels from Hat's logging section; JSON lines or text; errors keep their message.
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/server/logger.ts';
import type { LogConf } from '../../src/config/server-conf.ts';

function capture(conf: LogConf, isTTY = false): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const stream = Object.assign(new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  }), { isTTY });
  return { lines, log: createLogger(conf, { stream }) };
}

describe('createLogger', () => {
  it('writes one JSON object per line when not on a terminal', () => {
    const { lines, log } = capture({});
    log.child('server').info('eventer server listening', { address: 'tcp+sbs://127.0.0.1:1' });
    log.child('engine').error('module failed', { error: new Error('boom', { cause: new Error('deeper') }) });
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ level: 'info', logger: 'hat.event.server', msg: 'eventer server listening', address: 'tcp+sbs://127.0.0.1:1' });
    expect(typeof first!['time']).toBe('string');
    expect(second).toMatchObject({ level: 'error', error: { name: 'Error', message: 'boom', cause: { message: 'deeper' } } });
  });

  it('writes readable text on a terminal (format auto) or when asked', () => {
    const { lines, log } = capture({}, true);
    log.warning('slow', { ms: 5 });
    expect(lines[0]).toMatch(/^\S+ WARNING  hat\.event: slow \(ms=5\)$/);
    const forced = capture({ format: 'json' }, true);
    forced.log.info('x');
    expect(JSON.parse(forced.lines[0]!)).toMatchObject({ msg: 'x' });
  });

  it('takes levels from root and from the most specific configured logger, as Python logging', () => {
    const { lines, log } = capture({
      root: { level: 'WARNING' },
      loggers: { 'hat.event': { level: 'INFO' }, 'hat.event.backend': { level: 'debug' }, 'hat.eventer': { level: 'ERROR' } },
    });
    log.child('backend').debug('flushed');
    log.child('server').debug('hidden');
    log.child('server').info('shown');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['flushed', 'shown']);
    const quiet = capture({ level: 'ERROR', root: { level: 'DEBUG' } });
    quiet.log.warning('no');
    quiet.log.critical('yes');
    expect(quiet.lines).toHaveLength(1);
    expect(quiet.log.isEnabled('error')).toBe(true);
    expect(quiet.log.isEnabled('warning')).toBe(false);
  });
});
