// A Logger over a `log(line)` callback (the older option of the chatter and eventer layers): the
// message, then the fields as JSON; debug lines are dropped.
import type { LogFields, Logger } from './logger.ts';

export function callbackLogger(log: (line: string) => void, name = 'hat.event'): Logger {
  const line = (message: string, fields?: LogFields): void => log(fields ? `${message} ${JSON.stringify(fields)}` : message);
  return {
    name, debug: () => {}, info: line, warning: line, error: line, critical: line,
    isEnabled: (level) => level !== 'debug',
    child: (suffix) => callbackLogger(log, `${name}.${suffix}`),
  };
}
