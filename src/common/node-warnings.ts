// Node's own warnings (a module file whose type Node had to guess, a deprecation) are printed by
// Node's default listener as raw lines on stderr, which is where the log goes. Whoever owns that
// output (the command; a module thread, for its engine) takes them from Node and logs them instead.
import type { LogFields } from './logger.ts';

/** Replaces the process's 'warning' listeners (Node's printer among them) with `onWarning`; returns the undo. */
export function takeNodeWarnings(onWarning: (fields: LogFields) => void): () => void {
  const previous = process.listeners('warning');
  const listener = (warning: Error & { code?: string }): void => onWarning(warningFields(warning));
  process.removeAllListeners('warning');
  process.on('warning', listener);
  return () => {
    process.off('warning', listener);
    for (const l of previous) process.on('warning', l);
  };
}

/** A warning's fields in the log: its kind, Node's code for it, and its text. */
function warningFields(warning: Error & { code?: string }): LogFields {
  return { warning: warning.name, code: warning.code, text: warning.message };
}
