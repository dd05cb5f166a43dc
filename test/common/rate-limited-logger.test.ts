// Log flood control: per (logger, level, message), `burst` lines per window, then one summary
// line with the count of the lines left out.
import { describe, expect, it } from 'vitest';
import { rateLimitedLogger } from '../../src/common/rate-limited-logger.ts';
import { captureLogger } from '../helpers/logger.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rateLimitedLogger', () => {
  it('writes the first lines of a kind, then one summary per window with the count', async () => {
    const inner = captureLogger();
    const log = rateLimitedLogger(inner, { burst: 3, windowMs: 200 });
    for (let i = 0; i < 1000; i++) log.warning('connection closed', { reason: `bad frame ${i}` });
    expect(inner.lines.map((l) => l.fields['reason'])).toEqual(['bad frame 0', 'bad frame 1', 'bad frame 2']);
    await sleep(300);
    expect(inner.lines).toHaveLength(4);
    expect(inner.lines[3]).toMatchObject({
      level: 'warning', message: 'connection closed',
      fields: { reason: 'bad frame 999', suppressed: 997, suppressed_window_s: 0.2 },
    });
    // a new window starts afresh
    log.warning('connection closed', { reason: 'later' });
    expect(inner.lines).toHaveLength(5);
  });

  it('kinds are counted apart (message, level, logger); debug and info are never held back', () => {
    const inner = captureLogger();
    const log = rateLimitedLogger(inner, { burst: 1, windowMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      log.warning('a');
      log.warning('b');
      log.error('a');
      log.child('x').warning('a');
      log.info('started');
      log.debug('flushed');
    }
    const counts = new Map<string, number>();
    for (const l of inner.lines) counts.set(`${l.logger} ${l.level} ${l.message}`, (counts.get(`${l.logger} ${l.level} ${l.message}`) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({
      'test warning a': 1, 'test warning b': 1, 'test error a': 1, 'test.x warning a': 1, 'test info started': 5, 'test debug flushed': 5,
    });
  });
});
