// What the engine exposes and what a module file provides (docs/api.md "Engine and modules", docs/modules.md).
import type { Event, EventType, QueryData, RegisterEvent, Source } from '../common/types.ts';
import type { Subscription } from '../common/subscription.ts';
import type { Resource } from '../common/resource.ts';
import type { EncodedEvents } from '../backends/encoded-events.ts';

export interface ModuleConf {
  module: string;
  /** Engine-owned: 1 = own worker thread (default), 0 = main thread, N > 1 = pool (stateless only). */
  workers?: number;
  /**
   * Engine-owned: seconds of processing one session after which the log warns that the module may
   * be stuck, and again every as many seconds (default 10). A stop does not wait for a module
   * thread past it.
   */
  process_warning?: number;
  /**
   * Engine-owned: seconds after which a module still processing one session has its thread
   * terminated and the engine closes with an error (default null: no limit, as in Hat). Not with
   * workers: 0.
   */
  process_timeout?: number | null;
  [key: string]: unknown;
}

export interface EngineConf {
  server_id: number;
  modules: ModuleConf[];
}

/** What a module sees of the engine, from whichever thread it runs on. */
export interface ModuleEngine {
  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]>;
  query(data: QueryData): Promise<Event[]>;
}

export interface Module {
  readonly subscription: Subscription | readonly EventType[];
  onSessionStart?(sessionId: number): void | Promise<void>;
  onSessionStop?(sessionId: number): void | Promise<void>;
  process(source: Source, event: Event): AsyncIterable<RegisterEvent> | Iterable<RegisterEvent>;
  close?(): void | Promise<void>;
  /** Settles when the module closes on its own; the engine then closes too (Hat's module closing). */
  readonly closed?: Promise<unknown>;
}

export type ModuleFactory = (conf: ModuleConf, engine: ModuleEngine, source: Source) => Module | Promise<Module>;

/** The exports of a module file. */
export interface ModuleExports {
  create: ModuleFactory;
  confSchema?: object;
  stateless?: boolean;
}

/**
 * A Resource (common/resource.ts): it closes by `close()` or on its own (a module or the backend
 * failed, a module closed itself), and `failure` says why.
 */
export interface Engine extends Resource {
  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]>;
  query(data: QueryData): Promise<Event[]>;
  /** The same answer encoded for the wire (the eventer's MsgQueryRes). */
  queryEncoded(data: QueryData): Promise<EncodedEvents>;
  /** Every session's registered events, in id order. Returns unsubscribe. */
  onEvents(cb: (events: Event[]) => void): () => void;
  /**
   * A stop is under way (close() follows): from now on a module thread that has been processing
   * one session past its process_warning is terminated instead of waited for, so that what the
   * stop still registers (the eventer's DISCONNECTED, STOPPED) gets through. close() implies it.
   */
  beginStop(): void;
}
