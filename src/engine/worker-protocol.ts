// Messages between the engine and a module's worker thread. Control (init, session stop, close, the
// module's calls back into the engine) goes through comlink; the rounds go over a dedicated
// MessagePort: one message per module per round each way, never one per event, with the events
// in the compact form of event-batch-codec.ts, in buffers the two threads share. A session's start rides on its first round
// (or on its stop), which saves a round trip per module per session and keeps start and rounds in
// one ordered channel.
import type { EventPayload, Source } from '../common/types.ts';
import * as Comlink from 'comlink';
import type { ModuleConf, ModuleEngine } from './types.ts';
import { plainJsonPayload } from '../common/json-payload.ts';

export type ToWorker = { t: 'round'; session: number; batch: Uint8Array };

/** The round's outputs (all of them, in one message: the shared buffer holds one batch at a time). */
export type FromWorker = { t: 'end'; batch: Uint8Array } | { t: 'error'; message: string; stack?: string };

export interface InitRequest {
  label: string;
  specifier: string;
  conf: ModuleConf;
  source: Source;
}

export interface InitResult {
  queryTypes: string[][];
  hasSessionHooks: boolean;
}

/** The comlink-exposed API of a module host worker. */
export interface WorkerControl {
  init(request: InitRequest): Promise<InitResult>;
  /** Runs onSessionStop (and onSessionStart first if the session had no round for this module). */
  stopSession(sessionId: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * For the calls a module makes back into the engine and their results (structured clone through
 * comlink).
 * Posting a view (a Node Buffer slice of a socket read, say) clones its whole ArrayBuffer; copy such
 * payload bytes to exact-size buffers first. Returns the input array when nothing needed copying.
 */
export function postable<T extends { payload: EventPayload | null } | null>(events: T[]): T[] {
  let copy: T[] | null = null;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as T;
    if (event === null) continue;
    const fixed = postablePayload(event.payload);
    if (fixed === event.payload) continue;
    copy ??= events.slice();
    copy[i] = { ...event, payload: fixed } as T;
  }
  return copy ?? events;
}

function isView(bytes: Uint8Array): boolean {
  return bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength;
}

function postablePayload(payload: EventPayload | null): EventPayload | null {
  if (payload === null) return null;
  if (payload.type === 'binary') {
    return isView(payload.data) ? { type: 'binary', data: new Uint8Array(payload.data) } : payload;
  }
  if (payload.type === 'sbs') {
    return isView(payload.data.data) ? { type: 'sbs', data: { ...payload.data, data: new Uint8Array(payload.data.data) } } : payload;
  }
  // Lazy JSON payloads keep data and text in prototype accessors, which a clone would drop.
  return plainJsonPayload(payload);
}

/**
 * The engine as a module in a worker sees it: plain async functions over a comlink endpoint (the
 * module never sees comlink's proxy type), with what it sends made safe to clone.
 */
export function remoteModuleEngine(endpoint: Comlink.Endpoint): ModuleEngine {
  const engine = Comlink.wrap<ModuleEngine>(endpoint);
  return {
    register: (source, events) => engine.register(source, postable(events)),
    query: (data) => engine.query(data),
  };
}

/** The engine as the main thread exposes it to worker modules: results made safe to clone. */
export function postableEngine(engine: ModuleEngine): ModuleEngine {
  return {
    register: async (source, events) => postable(await engine.register(source, events)),
    query: async (data) => postable(await engine.query(data)),
  };
}
