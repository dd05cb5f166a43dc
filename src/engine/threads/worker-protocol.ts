// Messages between the engine and a module's worker thread. Control (init, close, the module's
// calls back into the engine) goes through comlink. Requests of the session — rounds and session
// stops — go over a dedicated MessagePort, or through the doorbell (doorbell.ts) when the thread
// watches it: one request per module per round, never one per event, with the events in the
// compact form of event-batch-codec.ts, in buffers the two threads share; the outputs come back
// in chunks as the module produces them (output-stream.ts). A session's start rides
// on its first round (or on its stop), which saves a round trip per module per session and keeps
// start, rounds and stop in one ordered channel.
import type { MessagePort } from 'node:worker_threads';
import type { EventPayload, Source } from '../../common/types.ts';
import * as Comlink from 'comlink';
import type { ModuleConf, ModuleEngine } from '../types.ts';
import { plainJsonPayload } from '../../common/json-payload.ts';
import type { ChunkPlace } from './output-stream.ts';

/** A round's events, or the end of a session for the module's onSessionStop. */
export type ToWorker = { t: 'round'; session: number; batch: Uint8Array } | { t: 'stop'; session: number };

/**
 * What a thread says while it serves a request: `chunk`, outputs handed over while the module goes
 * on producing (output-stream.ts); then the answer, `end` with the last chunk (and how often the
 * module waited for a free slot) or `error`. `wake`: this thread finished last of the round, and
 * answers were left quietly (round-barrier.ts).
 */
export type FromWorker =
  | ({ t: 'chunk' } & ChunkPlace)
  | ({ t: 'end'; waits: number } & ChunkPlace)
  | { t: 'error'; message: string; stack?: string }
  | { t: 'wake' };

/** Posted on the thread's parentPort: a Node warning in the thread, for the engine's log. */
export interface ThreadWarning {
  t: 'warning';
  fields: Record<string, unknown>;
}

/** What a module host thread gets at its start. */
export interface HostWorkerData {
  control: MessagePort;
  stream: MessagePort;
  engine: MessagePort;
  /** The doorbell's buffer, and whether the thread may watch it (doorbell.ts). */
  bell: SharedArrayBuffer;
  watch: boolean;
  /** The engine's round counter and this thread's status words (round-barrier.ts). */
  roundCounter: Int32Array;
  quietStatus: SharedArrayBuffer;
  /** The output area (output-stream.ts). */
  output: SharedArrayBuffer;
}

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
