// Stuck modules: every place a module runs keeps a busy clock (threads/busy-clocks.ts) from the
// moment it gets a request until it answers. Past the module's process_warning the log says which
// module has been processing which session for how long, and again every process_warning; past its
// process_timeout (off unless configured) a module thread is terminated, which closes the engine
// with that error. Once a stop is under way, a module thread past its process_warning is
// terminated rather than waited for, so the stop ends in bounded time.
//
// A timer on the main thread does all that for module threads. A module on the main thread cannot
// be interrupted, and while it blocks the main thread no timer runs there: its warnings come from
// a thread of their own (threads/watchdog-side.ts), which writes straight to the logger's file
// descriptor. Without one (a library caller's logger), the main thread's timer warns when it can.
import { Worker } from 'node:worker_threads';
import { LEVELS, type Logger } from '../common/logger.ts';
import { ResourceBase } from '../common/resource.ts';
import type { ProcessLimits } from './modules.ts';
import { ModuleError } from './errors.ts';
import { BusyClocks, STUCK_MESSAGE, WarningSchedule, epochMs, stuckFields } from './threads/busy-clocks.ts';
import type { WatchdogData } from './threads/watchdog-side.ts';
import { workerEntry } from '../common/worker-entry.ts';

/** What a module host tells the watchdog: when it starts and ends serving a request. */
export interface BusyClock {
  begin(session: number): void;
  end(): void;
}

interface Watched {
  index: number;
  label: string;
  limits: ProcessLimits;
  /** Ends the module's thread (absent for the main thread, which cannot be interrupted). */
  interrupt?: (reason: Error) => void;
  interrupted: boolean;
}

export class Watchdog extends ResourceBase {
  readonly #logger: Logger;
  readonly #clocks: BusyClocks;
  readonly #watched: Watched[] = [];
  readonly #schedule = new WarningSchedule();
  #timer: NodeJS.Timeout | null = null;
  #thread: Worker | null = null;
  #stopping = false;
  #interrupted: Error | undefined;

  /** `capacity`: how many clocks there will be (one per module thread, one per module on the main thread). */
  constructor(logger: Logger, capacity: number) {
    super();
    this.#logger = logger;
    this.#clocks = new BusyClocks(capacity);
  }

  /** The first module thread terminated because a stop did not wait for it (the stop is then unclean). */
  get interrupted(): Error | undefined {
    return this.#interrupted;
  }

  clock(label: string, limits: ProcessLimits, interrupt?: (reason: Error) => void): BusyClock {
    const index = this.#watched.length;
    if (index >= this.#clocks.capacity) throw new Error('watchdog: more clocks than its capacity');
    this.#watched.push({ index, label, limits, interrupt, interrupted: false });
    const clocks = this.#clocks;
    return { begin: (session) => clocks.begin(index, session), end: () => clocks.end(index) };
  }

  /** Starts watching, once every clock is there; resolves when the watchdog thread (if any) runs. */
  async start(): Promise<void> {
    if (this.#watched.length === 0 || !this.isOpen) return;
    const shortest = Math.min(...this.#watched.flatMap(({ limits }) => [limits.warning, limits.timeout ?? Infinity]));
    const periodMs = Math.min(1000, Math.max(20, (shortest * 1000) / 10));
    this.#timer = setInterval(() => this.#check(), periodMs).unref();
    const target = this.#logger.fdTarget;
    const onMain = this.#watched.filter((w) => !w.interrupt);
    if (onMain.length === 0 || !target || target.threshold > LEVELS.warning) return;
    const data: WatchdogData = {
      clocks: this.#clocks.buffer,
      watched: onMain.map(({ index, label, limits }) => ({ index, label, warningMs: limits.warning * 1000 })),
      log: target,
      periodMs,
    };
    const thread = new Worker(workerEntry('engine-watchdog'), { workerData: data, name: 'engine watchdog' });
    this.#thread = thread;
    thread.unref();
    thread.on('error', (error) => this.#logger.error('the engine watchdog thread failed', { error }));
    await new Promise<void>((resolve, reject) => {
      thread.once('message', () => resolve());
      thread.once('exit', (code) => reject(new Error(`the engine watchdog thread exited with code ${code}`)));
    });
  }

  /** A stop is under way: module threads past their process_warning are not waited for. */
  beginStop(): void {
    this.#stopping = true;
    this.#check();
  }

  #check(): void {
    const now = epochMs();
    for (const watched of this.#watched) {
      const since = this.#clocks.since(watched.index);
      if (since === 0) continue;
      const { index, label, limits, interrupt } = watched;
      const session = this.#clocks.session(index);
      const seconds = Math.round((now - since) / 100) / 10;
      if (interrupt && !watched.interrupted) {
        if (limits.timeout !== null && now - since >= limits.timeout * 1000) {
          watched.interrupted = true;
          interrupt(new ModuleError(label, `process_timeout: still processing session ${session} after ${seconds} s; its thread was terminated`));
          continue;
        }
        if (this.#stopping && now - since >= limits.warning * 1000) {
          watched.interrupted = true;
          const reason = new ModuleError(label, `still processing session ${session} after ${seconds} s when the engine stopped (process_warning: ${limits.warning} s); its thread was terminated`);
          this.#interrupted ??= reason;
          interrupt(reason);
          continue;
        }
      }
      if (!interrupt && this.#thread) continue; // the watchdog thread warns for the main thread
      const overdue = this.#schedule.due(this.#clocks, index, limits.warning * 1000, now);
      if (overdue) this.#logger.warning(STUCK_MESSAGE, stuckFields(label, overdue));
    }
  }

  protected override async teardown(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#thread?.terminate();
  }
}
