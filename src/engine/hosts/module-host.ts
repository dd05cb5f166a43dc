// The engine's view of a module, wherever it runs (main thread, own worker, pool).
import type { Event, RegisterEvent, Source } from '../../common/types.ts';
import type { Subscription } from '../../common/subscription.ts';
import type { ModuleConf, ModuleEngine } from '../types.ts';
import type { RoundBarrier } from '../threads/round-barrier.ts';
import type { Resource } from '../../common/resource.ts';
import type { Logger } from '../../common/logger.ts';
import type { ProcessLimits } from '../modules.ts';
import type { Watchdog } from '../watchdog.ts';

/**
 * A Resource: it closes on its own when its module does (its thread died, it closed itself), with
 * `failure` saying why; the engine adopts its hosts, so that closes the engine too.
 */
export interface ModuleHost extends Resource {
  /** "module <index> (<specifier>)": how errors and logs name it. */
  readonly label: string;
  readonly subscription: Subscription;
  /** Whether the session stop needs a call (modules without hooks skip it). */
  readonly hasSessionHooks: boolean;
  /** Worker threads alive now (0 for a module on the main thread). */
  readonly threads: number;
  /**
   * Runs the module on one round's events (all match its subscription). Output batches come in
   * input order; the iterator throws a ModuleError if the module fails.
   */
  process(sessionId: number, sources: Source[], events: Event[]): AsyncIterable<RegisterEvent[]>;
  stopSession(sessionId: number): Promise<void>;
}

/**
 * Reads every host's output batches at once (so modules work, and their chunks are decoded,
 * concurrently) and gives them to `take` in host order: the first host's as they come, a later
 * host's once those before it have ended (held until then). Settles when every host has ended;
 * if any failed, rejects with the first failure in host order. `ended` hears of each host's end
 * as it happens (the engine times a module's round by it).
 */
export async function inOrder<T>(
  sources: readonly AsyncIterable<T>[],
  take: (index: number, value: T) => void,
  ended?: (index: number, failed: boolean) => void,
): Promise<void> {
  // One module (the common case, and every round of a 1-event session): nothing to hold back.
  if (sources.length === 1) {
    try {
      for await (const value of sources[0]!) take(0, value);
    } catch (error) {
      ended?.(0, true);
      throw error;
    }
    ended?.(0, false);
    return;
  }
  const order: Order<T> = {
    take,
    ended,
    held: sources.map(() => []),
    finished: sources.map(() => false),
    failures: [],
    current: 0,
  };
  await Promise.all(sources.map((source, index) => readInOrder(order, source, index)));
  for (let i = 0; i < sources.length; i++) if (i in order.failures) throw order.failures[i];
}

/** inOrder's state over several sources. */
interface Order<T> {
  take: (index: number, value: T) => void;
  ended: ((index: number, failed: boolean) => void) | undefined;
  held: T[][];
  finished: boolean[];
  failures: unknown[];
  /** the source whose values go out as they come */
  current: number;
}

async function readInOrder<T>(order: Order<T>, source: AsyncIterable<T>, index: number): Promise<void> {
  try {
    for await (const value of source) {
      if (index === order.current) order.take(index, value);
      else order.held[index]!.push(value);
    }
  } catch (error) {
    order.failures[index] = error;
  }
  order.ended?.(index, index in order.failures);
  order.finished[index] = true;
  while (order.current < order.finished.length && order.finished[order.current]) {
    order.current++;
    for (const value of order.held[order.current] ?? []) order.take(order.current, value);
    order.held[order.current] = [];
  }
}

export interface HostOptions {
  label: string;
  /** Importable URL or package name of the module file. */
  specifier: string;
  conf: ModuleConf;
  source: Source;
  engine: ModuleEngine;
  /** Whether a module thread may watch its doorbell (doorbell.ts): the engine has a core to spare. */
  watch: boolean;
  /** The engine's barrier: its module threads wake the main thread once per round (round-barrier.ts). */
  barrier: RoundBarrier;
  /** Each place the module runs takes a clock of the engine's watchdog. */
  limits: ProcessLimits;
  watchdog: Watchdog;
  /** The engine's: where a module thread's Node warnings go. */
  logger: Logger;
}
