// Runs one module instance: session hooks and `process` over a round's events. The same code serves
// the main thread (workers: 0), a module's own worker thread and pooled threads, so every placement
// behaves identically.
import type { Event, EventType, RegisterEvent, Source } from '../../common/types.ts';
import { Subscription } from '../../common/subscription.ts';
import type { Module } from '../types.ts';
import type { OutputSink } from '../threads/output-stream.ts';

export function toSubscription(subscription: Module['subscription']): Subscription {
  return subscription instanceof Subscription ? subscription : new Subscription(subscription as readonly EventType[]);
}

export function checkModule(module: unknown): asserts module is Module {
  if (typeof module !== 'object' || module === null) throw new Error('create did not return a module object');
  const m = module as Partial<Module>;
  if (typeof m.process !== 'function') throw new Error('module has no process function');
  if (m.subscription === undefined || m.subscription === null) throw new Error('module has no subscription');
  toSubscription(m.subscription);
}

export function hasSessionHooks(module: Module): boolean {
  return typeof module.onSessionStart === 'function' || typeof module.onSessionStop === 'function';
}

/**
 * Wraps a module with Hat's session protocol. The session start is implied by the first round or
 * stop of a session, so a module's onSessionStart costs no message of its own.
 */
export class ModuleRuntime {
  #session = 0;

  constructor(readonly module: Module) {}

  /** Runs `process` on each event; each output goes to `out` as soon as the module yields it. */
  async round(sessionId: number, sources: readonly Source[], events: readonly Event[], out: OutputSink): Promise<void> {
    // Awaited even without a hook: on the main thread the module must not start before the engine
    // has started storing the previous session (a query of the module waits for that store).
    await this.#ensureStarted(sessionId);
    for (let i = 0; i < events.length; i++) {
      const produced = this.module.process(sources[i] as Source, events[i] as Event);
      if (Array.isArray(produced)) {
        // The usual answer, often empty: indexed, so no iterator is made per event.
        for (let j = 0; j < produced.length; j++) if (!out.push(produced[j] as RegisterEvent)) await out.drain();
      } else if (Symbol.iterator in produced) {
        // Other synchronous iterables (generators, sets) cost no await per event either.
        for (const output of produced as Iterable<RegisterEvent>) if (!out.push(output)) await out.drain();
      } else {
        for await (const output of produced) if (!out.push(output)) await out.drain();
      }
    }
  }

  async stop(sessionId: number): Promise<void> {
    await this.#ensureStarted(sessionId);
    this.#session = 0;
    await this.module.onSessionStop?.(sessionId);
  }

  async #ensureStarted(sessionId: number): Promise<void> {
    if (this.#session === sessionId) return;
    this.#session = sessionId;
    await this.module.onSessionStart?.(sessionId);
  }
}
