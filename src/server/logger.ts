// Structured logging: one JSON object per line, or a readable line on a terminal. Levels come
// from the configuration's `log` section (Python logging names, as in Hat's server.yaml).
import type { Writable } from 'node:stream';
import { LEVELS, formatLogLine, type LevelName, type LogFields, type Logger } from '../common/logger.ts';
import type { LogConf } from '../config/server-conf.ts';

export { silentLogger, type LevelName, type LogFields, type Logger } from '../common/logger.ts';

export interface LoggerOptions {
  /** default process.stderr */
  stream?: Writable & { isTTY?: boolean };
  /** the root logger's name; default 'hat.event' */
  name?: string;
}

/** Python level names (any case, WARN and NOTSET included) to ours. */
function levelFromName(name: string | undefined): LevelName | undefined {
  if (name === undefined) return undefined;
  const lower = name.toLowerCase();
  if (lower === 'warn') return 'warning';
  if (lower === 'notset') return 'debug';
  return lower in LEVELS ? (lower as LevelName) : undefined;
}

export function createLogger(conf: LogConf = {}, opts: LoggerOptions = {}): Logger {
  const stream = opts.stream ?? process.stderr;
  const format = conf.format === 'json' || conf.format === 'text' ? conf.format : stream.isTTY ? 'text' : 'json';
  const rootLevel = levelFromName(conf.level) ?? levelFromName(conf.root?.level) ?? 'info';
  const loggers = Object.entries(conf.loggers ?? {}).flatMap(([name, c]) => {
    const level = levelFromName(c?.level);
    return level ? [{ name, level }] : [];
  });
  /** Python semantics: the most specific configured ancestor's level, else the root's. */
  const levelOf = (name: string): number => {
    let best: { name: string; level: LevelName } | undefined;
    for (const l of loggers) {
      if ((name === l.name || name.startsWith(`${l.name}.`)) && (!best || l.name.length > best.name.length)) best = l;
    }
    return LEVELS[best?.level ?? rootLevel];
  };
  const write = (name: string, level: LevelName, message: string, fields?: LogFields): void => {
    stream.write(`${formatLogLine(format, name, level, message, fields)}\n`);
  };
  const fd = (stream as { fd?: unknown }).fd;
  const make = (name: string): Logger => {
    const threshold = levelOf(name);
    const at = (level: LevelName) => (message: string, fields?: LogFields): void => {
      if (LEVELS[level] >= threshold) write(name, level, message, fields);
    };
    return {
      name,
      fdTarget: typeof fd === 'number' ? { fd, format, name, threshold } : undefined,
      debug: at('debug'),
      info: at('info'),
      warning: at('warning'),
      error: at('error'),
      critical: at('critical'),
      isEnabled: (level) => LEVELS[level] >= threshold,
      child: (suffix) => make(`${name}.${suffix}`),
    };
  };
  return make(opts.name ?? 'hat.event');
}
