// Stuck modules (engine/watchdog.ts): warned about past process_warning, their thread terminated
// past process_timeout, and never holding a stop for long. Here with the engine alone and a logger
// that keeps its lines; test/cli/stuck-modules.test.ts runs the same through server processes.
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import type { Event } from '../../src/common/types.ts';
import { EVENTER, fixtures, jsonEvent, payloadValue, recordingBackend } from './helpers.ts';
import { createLogger } from '../../src/server/logger.ts';
import type { Logger } from '../../src/common/logger.ts';
import { Writable } from 'node:stream';
import { until } from '../helpers/until.ts';

let engine: Engine | null = null;
afterEach(async () => {
  await engine?.close();
  engine = null;
});

interface Line {
  level: string;
  msg: string;
  module?: string;
  session?: number;
  seconds?: number;
}

/** The server's logger (JSON lines, no file descriptor), keeping each line as parsed. */
function keepingLogger(lines: Line[]): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Line);
      done();
    },
  });
  return createLogger({ level: 'DEBUG', format: 'json' }, { stream, name: 'test' });
}

const STUCK = 'module still processing a session';

describe('stuck modules', () => {
  it('the module entry limits are checked, naming the key', async () => {
    const bad = async (entry: object, pattern: RegExp) =>
      expect(createEngine({ server_id: 1, modules: [{ module: 'loops.ts', ...entry }] }, await recordingBackend(), { baseDir: fixtures })).rejects.toThrow(pattern);
    await bad({ process_warning: 0 }, /module 0 \(loops\.ts\): invalid configuration: \/process_warning: expected a number of seconds > 0/);
    await bad({ process_warning: 'soon' }, /\/process_warning: expected a number of seconds > 0/);
    await bad({ process_timeout: -1 }, /\/process_timeout: expected a number of seconds > 0, or null/);
    await bad({ workers: 0, process_timeout: 5 }, /\/process_timeout: expected null with workers: 0 \(a module on the main thread cannot be interrupted\)/);
  });

  it('a module thread processing one session for long is reported, again and again, with its session and duration', async () => {
    const lines: Line[] = [];
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'loops.ts', workers: 1, process_warning: 0.2 }] }, backend, { baseDir: fixtures, logger: keepingLogger(lines) });
    void engine.register(EVENTER, [jsonEvent(['loop', 'sync'], 1)]).catch(() => {});
    await until(() => lines.filter((l) => l.msg === STUCK).length >= 3, 15_000);
    const warnings = lines.filter((l) => l.msg === STUCK);
    expect(warnings[0]).toMatchObject({ level: 'warning', module: 'module 0 (loops.ts)', session: 2 }); // session 1 is STARTED
    expect(warnings[0]!.seconds).toBeGreaterThanOrEqual(0.2);
    expect(warnings[2]!.seconds).toBeGreaterThanOrEqual(0.6); // every process_warning again
  });

  for (const workers of [1, 2]) {
    it(`past process_timeout the module thread is terminated and the engine closes naming it, STOPPED stored (workers: ${workers})`, async () => {
      const backend = await recordingBackend();
      engine = await createEngine({ server_id: 1, modules: [{ module: 'loops.ts', workers, process_timeout: 0.5 }] }, backend, { baseDir: fixtures });
      await engine.register(EVENTER, [jsonEvent(['before'], 1)]);
      const started = Date.now();
      const stuck = engine.register(EVENTER, [jsonEvent(['loop', 'sync'], 2), jsonEvent(['loop', 'fine'], 3)]);
      await expect(stuck).rejects.toThrow(/module 0 \(loops\.ts\): process_timeout: still processing session 3 after 0\.\d+ s; its thread was terminated/);
      await engine.closed;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(engine.failure?.message).toMatch(/module 0 \(loops\.ts\): process_timeout/);
      expect((backend.calls.at(-1) as Event[]).map(payloadValue)).toEqual(['STOPPED']);
      expect(backend.calls.flat().map(payloadValue)).toEqual(['STARTED', 1, 'STOPPED']);
    });
  }

  it('close() does not wait for a module thread stuck past process_warning: STOPPED is stored and the failure names the module', async () => {
    const backend = await recordingBackend();
    engine = await createEngine({ server_id: 1, modules: [{ module: 'loops.ts', workers: 1, process_warning: 0.5 }] }, backend, { baseDir: fixtures });
    await engine.register(EVENTER, [jsonEvent(['before'], 1)]);
    const stuck = expect(engine.register(EVENTER, [jsonEvent(['loop', 'sync'], 2)])).rejects.toThrow(
      /still processing session 3 after 0\.\d+ s when the engine stopped \(process_warning: 0\.5 s\); its thread was terminated/,
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // the session has begun
    const started = Date.now();
    await engine.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await stuck;
    expect(engine.failure?.message).toMatch(/module 0 \(loops\.ts\): still processing session 3/);
    expect(backend.calls.flat().map(payloadValue)).toEqual(['STARTED', 1, 'STOPPED']);
  });

  it('a module on the main thread awaiting forever is reported by the main thread, which is free (a logger without a file descriptor)', async () => {
    const lines: Line[] = [];
    const stuckEngine = await createEngine({ server_id: 1, modules: [{ module: 'loops.ts', workers: 0, process_warning: 0.2 }] }, await recordingBackend(), {
      baseDir: fixtures,
      logger: keepingLogger(lines),
    });
    void stuckEngine.register(EVENTER, [jsonEvent(['loop', 'async'], 1)]).catch(() => {});
    await until(() => lines.some((l) => l.msg === STUCK), 15_000);
    expect(lines.find((l) => l.msg === STUCK)).toMatchObject({ module: 'module 0 (loops.ts)', session: 2 });
    // It cannot be interrupted: the stop waits on it (the server's second signal is the way out).
    const closing = stuckEngine.close();
    expect(await Promise.race([closing.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 700))])).toBe('waiting');
  });
});
