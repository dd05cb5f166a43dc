// Log flood control: a warning (or worse) that repeats — same logger, level and message — is
// written at most `burst` times per window; the rest of that window is only counted, and when the
// window ends one summary line with the same message says how many were left out. Variable parts
// belong in the fields, so that repeats share a message. Debug and info lines pass unchanged.
import type { LevelName, LogFields, Logger } from './logger.ts';

export interface RateLimitOptions {
  /** lines of one kind written per window; default 10 */
  burst?: number;
  /** default 60 000 ms */
  windowMs?: number;
}

/** Kinds tracked at once; past this, kinds whose window has ended are forgotten first. */
const MAX_KINDS = 1024;

interface Kind {
  logger: Logger;
  level: LevelName;
  message: string;
  windowStart: number;
  written: number;
  suppressed: number;
  fields: LogFields | undefined;
  timer: NodeJS.Timeout | null;
}

class FloodGate {
  readonly #kinds = new Map<string, Kind>();
  readonly #burst: number;
  readonly #windowMs: number;

  constructor(opts: RateLimitOptions) {
    this.#burst = opts.burst ?? 10;
    this.#windowMs = opts.windowMs ?? 60_000;
  }

  write(logger: Logger, level: LevelName, message: string, fields: LogFields | undefined): void {
    const key = `${logger.name}\u0000${level}\u0000${message}`;
    const now = Date.now();
    let kind = this.#kinds.get(key);
    if (kind === undefined || (kind.timer === null && now - kind.windowStart >= this.#windowMs)) {
      if (kind === undefined && this.#kinds.size >= MAX_KINDS) this.#forgetEnded(now);
      kind = { logger, level, message, windowStart: now, written: 0, suppressed: 0, fields: undefined, timer: null };
      this.#kinds.set(key, kind);
    }
    if (kind.written < this.#burst) {
      kind.written++;
      logger[level](message, fields);
      return;
    }
    kind.suppressed++;
    kind.fields = fields;
    if (kind.timer === null) {
      const k = kind;
      k.timer = setTimeout(() => this.#summarise(key, k), k.windowStart + this.#windowMs - now);
      k.timer.unref();
    }
  }

  #summarise(key: string, kind: Kind): void {
    kind.logger[kind.level](kind.message, {
      ...kind.fields,
      suppressed: kind.suppressed,
      suppressed_window_s: this.#windowMs / 1000,
    });
    this.#kinds.delete(key);
  }

  #forgetEnded(now: number): void {
    for (const [key, kind] of this.#kinds) {
      if (kind.timer === null && now - kind.windowStart >= this.#windowMs) this.#kinds.delete(key);
    }
  }
}

/** `inner` with flood control on warning, error and critical; children share the limits. */
export function rateLimitedLogger(inner: Logger, opts: RateLimitOptions = {}): Logger {
  return wrap(inner, new FloodGate(opts));
}

function wrap(inner: Logger, gate: FloodGate): Logger {
  const limited = (level: LevelName) => (message: string, fields?: LogFields): void => {
    if (inner.isEnabled(level)) gate.write(inner, level, message, fields);
  };
  return {
    name: inner.name,
    // the engine's watchdog thread writes there itself: one line per process_warning, no flood
    fdTarget: inner.fdTarget,
    debug: (message, fields) => inner.debug(message, fields),
    info: (message, fields) => inner.info(message, fields),
    warning: limited('warning'),
    error: limited('error'),
    critical: limited('critical'),
    isEnabled: (level) => inner.isEnabled(level),
    child: (suffix) => wrap(inner.child(suffix), gate),
  };
}
