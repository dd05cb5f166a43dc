// The engine's view of a module, wherever it runs (main thread, own worker, pool).
import type { Event, RegisterEvent, Source } from '../../common/types.ts';
import type { Subscription } from '../../common/subscription.ts';
import type { ModuleConf, ModuleEngine } from '../types.ts';
import type { RoundBarrier } from '../threads/round-barrier.ts';
import type { Resource } from '../../common/resource.ts';
import type { Logger } from '../../common/logger.ts';

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

/** All of a host's output batches for a round (started at once, so modules work concurrently). */
export async function collect(batches: AsyncIterable<RegisterEvent[]>): Promise<RegisterEvent[][]> {
  const all: RegisterEvent[][] = [];
  for await (const batch of batches) all.push(batch);
  return all;
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
  /** The engine's: where a module thread's Node warnings go. */
  logger: Logger;
}
