// One task of the bench command, run in a worker thread: a group of connections of one cell.
// Its requests are encoded before the clock starts; every connection warms up, then measures,
// between times the main thread sets in a shared buffer, so all groups of a cell run together.
//
//   waited     register with response, one request at a time per connection: latency per
//              request, and requests/s is what sequential clients get
//   pipelined  register without response, up to a bounded number in flight (PipelineWindow),
//              then an empty register with response as a barrier (the server handles a
//              connection's requests in order, Hat's and ours), so the window ends when the
//              server has handled them all; a barrier after the warm-up too, so no warm-up
//              backlog counts as measured work
import { connectEventer, EncodedRegisterRequest, type EventerClient } from '../eventer/client.ts';
import type { RegisterEvent } from '../common/types.ts';
import { Reservoir } from './stats.ts';

export type BenchMode = 'pipelined' | 'waited';

export const BENCH_MODES: readonly BenchMode[] = ['pipelined', 'waited'];

/**
 * The control buffer: Int32 [ready tasks, go, stop], Float64 at 16: when the warm-up starts
 * (ms on the shared clock), then per task from 24: events measured so far (progress).
 */
const READY = 0;
const GO = 1;
const STOP = 2;
const GO_AT = 2;
const PROGRESS = 3;

export function controlBuffer(tasks: number): SharedArrayBuffer {
  return new SharedArrayBuffer(8 * (PROGRESS + tasks));
}

/** Milliseconds on a clock every thread of the process shares. */
export function sharedClock(): number {
  return performance.timeOrigin + performance.now();
}

/** The main thread's side of the control buffer. */
export class LoadControl {
  readonly buffer: SharedArrayBuffer;
  readonly #ints: Int32Array;
  readonly #floats: Float64Array;

  constructor(tasks: number) {
    this.buffer = controlBuffer(tasks);
    this.#ints = new Int32Array(this.buffer);
    this.#floats = new Float64Array(this.buffer);
  }

  get ready(): number {
    return Atomics.load(this.#ints, READY);
  }

  /** Starts every task's warm-up at `at` (shared clock). */
  go(at: number): void {
    this.#floats[GO_AT] = at;
    Atomics.store(this.#ints, GO, 1);
    Atomics.notify(this.#ints, GO);
  }

  /** Tasks end their loops at the next request (an interrupted or failed cell). */
  stop(): void {
    Atomics.store(this.#ints, STOP, 1);
    Atomics.store(this.#ints, GO, 1);
    Atomics.notify(this.#ints, GO);
  }

  /** Events measured so far by all tasks (for a progress line; read without locks). */
  measuredEvents(): number {
    let sum = 0;
    for (let i = PROGRESS; i < this.#floats.length; i++) sum += this.#floats[i]!;
    return sum;
  }
}

export interface LoadTask {
  address: string;
  mode: BenchMode;
  /** events per request */
  batch: number;
  /** connections of this task */
  connections: number;
  /** number of the task's first connection in the cell (event types name the connection) */
  firstConnection: number;
  /** bytes of each event's JSON payload text */
  payloadBytes: number;
  warmUpSeconds: number;
  durationSeconds: number;
  control: SharedArrayBuffer;
  /** this task's index in the control buffer */
  slot: number;
  /** latencies kept per task for the percentiles (a uniform sample beyond it) */
  sampleCapacity: number;
}

export interface LoadResult {
  events: number;
  requests: number;
  /** shared-clock ms: the earliest start and the latest end of the connections' windows */
  start: number;
  end: number;
  /** request latencies in ms (waited mode), a uniform sample of `latencyCount` */
  latencies: Float64Array;
  latencyCount: number;
  maxLatency: number;
}

/** Distinct requests per connection, sent in turn (event types and payloads vary a little). */
const PREPARED_REQUESTS = 8;
const TYPES_PER_CONNECTION = 10;

const BARRIER = new EncodedRegisterRequest([]);

export async function runLoad(task: LoadTask): Promise<LoadResult> {
  const ints = new Int32Array(task.control);
  const floats = new Float64Array(task.control);
  const clients: EventerClient[] = [];
  try {
    for (let i = 0; i < task.connections; i++) clients.push(await connectEventer(task.address));
    const prepared = clients.map((_, i) => prepareRequests(task, task.firstConnection + i));
    Atomics.add(ints, READY, 1);
    await waitAsync(ints, GO, 0).value;
    const latencies = new Reservoir(task.sampleCapacity);
    const windows = await Promise.all(clients.map((client, i) => drive(client, prepared[i]!, task, floats[GO_AT]!, latencies, ints, floats)));
    return {
      events: windows.reduce((sum, w) => sum + w.requests, 0) * task.batch,
      requests: windows.reduce((sum, w) => sum + w.requests, 0),
      start: Math.min(...windows.map((w) => w.start)),
      end: Math.max(...windows.map((w) => w.end)),
      latencies: latencies.values(),
      latencyCount: latencies.count,
      maxLatency: latencies.max,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

// Node 20 has Atomics.waitAsync; TypeScript's ES2022 library does not declare it.
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { value: Promise<string> | string };
}).waitAsync;

interface Window {
  start: number;
  end: number;
  requests: number;
}

async function drive(
  client: EventerClient, requests: EncodedRegisterRequest[], task: LoadTask, goAt: number, latencies: Reservoir,
  ints: Int32Array, floats: Float64Array,
): Promise<Window> {
  let k = 0;
  const next = (): EncodedRegisterRequest => requests[k++ % requests.length]!;
  const stopped = (): boolean => Atomics.load(ints, STOP) !== 0;
  const warmUpEnd = goAt + task.warmUpSeconds * 1000;
  const slot = PROGRESS + task.slot;
  let count = 0;
  if (task.mode === 'waited') {
    while (sharedClock() < warmUpEnd && !stopped()) await client.registerWithResponse(next());
    const start = sharedClock();
    const until = start + task.durationSeconds * 1000;
    let t = start;
    while (t < until && !stopped()) {
      await client.registerWithResponse(next());
      const done = sharedClock();
      latencies.add(done - t);
      t = done;
      count += 1;
      floats[slot] = floats[slot]! + task.batch;
    }
    return { start, end: t, requests: count };
  }
  const window = new PipelineWindow(client);
  while (sharedClock() < warmUpEnd && !stopped()) await window.send(next(), () => {});
  await window.barrier();
  const start = sharedClock();
  const until = start + task.durationSeconds * 1000;
  const confirmed = (requests: number): void => {
    floats[slot] = floats[slot]! + requests * task.batch;
  };
  while (sharedClock() < until && !stopped()) {
    await window.send(next(), confirmed);
    count += 1;
  }
  await window.barrier();
  return { start, end: sharedClock(), requests: count };
}

/**
 * Pipelined sending with a bound: every SYNC_EVERY-th request goes with response, and a new
 * one waits for the oldest while MAX_SYNCS are unanswered, so at most about
 * SYNC_EVERY × MAX_SYNCS requests are in flight per connection. Without it the socket buffers
 * alone hold seconds of backlog, and the cell's window would end long after its duration.
 */
const SYNC_EVERY = 16;
const MAX_SYNCS = 4;

class PipelineWindow {
  readonly #client: EventerClient;
  readonly #syncs: Promise<void>[] = [];
  #sent = 0;

  constructor(client: EventerClient) {
    this.#client = client;
  }

  /** `confirmed(n)`: the server has handled n more requests of this window. */
  async send(request: EncodedRegisterRequest, confirmed: (requests: number) => void): Promise<void> {
    this.#sent += 1;
    if (this.#sent % SYNC_EVERY !== 0) {
      await this.#client.register(request);
      return;
    }
    if (this.#syncs.length >= MAX_SYNCS) await this.#syncs.shift();
    this.#syncs.push(this.#client.registerWithResponse(request).then(() => confirmed(SYNC_EVERY)));
  }

  /** Resolves once the server has handled every request sent so far. */
  async barrier(): Promise<void> {
    await Promise.all(this.#syncs.splice(0));
    await this.#client.registerWithResponse(BARRIER);
  }
}

/** The connection's requests, `batch` events each. */
function prepareRequests(task: LoadTask, connection: number): EncodedRegisterRequest[] {
  return Array.from({ length: PREPARED_REQUESTS }, (_, r) =>
    new EncodedRegisterRequest(benchEvents(connection, task.batch, r * task.batch, task.payloadBytes)));
}

/**
 * `count` events of connection `connection`, numbered from `first`: types
 * ['bench', 'load', connection, n % 10], JSON payloads `{"n": n, "pad": "xx…"}` of `payloadBytes`
 * of text (never shorter than the bare form).
 */
export function benchEvents(connection: number, count: number, first: number, payloadBytes: number): RegisterEvent[] {
  const bare = '{"n": , "pad": ""}'.length;
  return Array.from({ length: count }, (_, i) => {
    const n = first + i;
    return {
      type: ['bench', 'load', String(connection), String(n % TYPES_PER_CONNECTION)],
      sourceTimestamp: { s: 1_700_000_000 + n, us: 0 },
      payload: { type: 'json', data: { n, pad: 'x'.repeat(Math.max(payloadBytes - bare - String(n).length, 0)) } },
    };
  });
}
