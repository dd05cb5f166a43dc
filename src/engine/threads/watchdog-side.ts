// The engine's watchdog thread: warns about modules on the main thread (workers: 0) that have been
// processing one session for long. The main thread cannot do it while such a module blocks it, and
// neither can its logger, whose writes run there; so this thread reads the busy clocks the main
// thread keeps (busy-clocks.ts) and writes the log lines itself, straight to the logger's file
// descriptor, in the logger's own form. The entry file (workers/engine-watchdog.ts) only calls
// serveWatchdogThread.
import { writeSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import { formatLogLine, type FdLogTarget } from '../../common/logger.ts';
import { BusyClocks, STUCK_MESSAGE, WarningSchedule, epochMs, stuckFields } from './busy-clocks.ts';

export interface WatchdogData {
  clocks: SharedArrayBuffer;
  /** The clocks of modules on the main thread. */
  watched: { index: number; label: string; warningMs: number }[];
  log: FdLogTarget;
  periodMs: number;
}

export function serveWatchdogThread(data: WatchdogData, port: MessagePort): void {
  const clocks = new BusyClocks(data.clocks);
  const schedule = new WarningSchedule();
  setInterval(() => {
    const now = epochMs();
    for (const { index, label, warningMs } of data.watched) {
      const overdue = schedule.due(clocks, index, warningMs, now);
      if (overdue) write(data.log, formatLogLine(data.log.format, data.log.name, 'warning', STUCK_MESSAGE, stuckFields(label, overdue)));
    }
  }, data.periodMs);
  port.postMessage('ready');
}

/** One line in one write (a pipe keeps lines of up to 4 KiB whole among other writers). */
function write(log: FdLogTarget, line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let tries = 0; tries < 100; tries++) {
    try {
      writeSync(log.fd, bytes);
      return;
    } catch (error) {
      // stderr may be a non-blocking pipe that is full for a moment; a line is not worth more.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
