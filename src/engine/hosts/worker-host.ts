// workers: 1 — the module runs in its own worker thread. Control calls go through comlink; rounds
// and session stops go over a dedicated MessagePort or the doorbell, and their answers come back
// on the port, read as an async iterable of output batches.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { Event, RegisterEvent, Source } from '../../common/types.ts';
import { Subscription } from '../../common/subscription.ts';
import { QueuedIterator } from '../../common/queued-iterator.ts';
import type { HostOptions, ModuleHost } from './module-host.ts';
import type { FromWorker, HostWorkerData, ThreadWarning, ToWorker, WorkerControl } from '../threads/worker-protocol.ts';
import { Doorbell, RequestKind } from '../threads/doorbell.ts';
import { QUIET_STATUS_BYTES, QuietAnswer } from '../threads/round-barrier.ts';
import type { QuietMember, RoundBarrier } from '../threads/round-barrier.ts';
import { SharedBatch, decodeRegisterEvents, encodeRound } from '../threads/event-batch-codec.ts';
import { OutputArea, type ChunkPlace } from '../threads/output-stream.ts';
import { postableEngine } from '../threads/worker-protocol.ts';
import { ModuleError } from '../errors.ts';
import { describeError } from '../../common/describe-error.ts';
import { workerEntry } from '../../common/worker-entry.ts';
import { ResourceBase } from '../../common/resource.ts';
import type { Logger } from '../../common/logger.ts';
import type { BusyClock } from '../watchdog.ts';

/** Input buffers up to this size are reused; a larger one (a large round's) is let go after use. */
const INPUT_KEPT_BYTES = 1024 * 1024;

export async function createWorkerHost(opts: HostOptions): Promise<ModuleHost> {
  const control = new MessageChannel();
  const stream = new MessageChannel();
  const engine = new MessageChannel();
  const bell = new Doorbell();
  const quietStatus = new SharedArrayBuffer(QUIET_STATUS_BYTES);
  const output = new OutputArea();
  const workerData: HostWorkerData = {
    control: control.port2,
    stream: stream.port2,
    engine: engine.port2,
    bell: bell.buffer,
    watch: opts.watch,
    roundCounter: opts.barrier.counter,
    quietStatus,
    output: output.buffer,
  };
  const worker = new Worker(workerEntry('module-worker'), {
    workerData,
    transferList: [control.port2, stream.port2, engine.port2],
    name: opts.label,
  });
  Comlink.expose(postableEngine(opts.engine), engine.port1 as unknown as Comlink.Endpoint);
  const remote = Comlink.wrap<WorkerControl>(control.port1 as unknown as Comlink.Endpoint);
  const host = new WorkerHost(opts, {
    worker,
    remote,
    stream: stream.port1,
    bell,
    barrier: opts.barrier,
    quietStatus: new Int32Array(quietStatus),
    output,
    otherPorts: [control.port1, engine.port1],
  });
  worker.on('message', (message: ThreadWarning) => opts.logger.warning('node warning', { module: opts.label, ...message.fields }));
  try {
    const info = await Promise.race([
      remote.init({ label: opts.label, specifier: opts.specifier, conf: opts.conf, source: opts.source }),
      host.closed.then(() => Promise.reject(host.failure)),
    ]);
    host.ready(new Subscription(info.queryTypes), info.hasSessionHooks);
    return host;
  } catch (error) {
    await host.close();
    throw error instanceof ModuleError
      ? error
      : new ModuleError(opts.label, `create failed: ${describeError(error)}`, { cause: error });
  }
}

/** The main thread's ends of a module thread. */
interface Thread {
  worker: Worker;
  remote: Comlink.Remote<WorkerControl>;
  /** Session requests out, answers in. */
  stream: MessagePort;
  bell: Doorbell;
  barrier: RoundBarrier;
  /** This thread's quiet answer words (round-barrier.ts). */
  quietStatus: Int32Array;
  /** Where the thread leaves its outputs (output-stream.ts). */
  output: OutputArea;
  /** Closed with the host. */
  otherPorts: MessagePort[];
}

/** What a request gets back: chunks, then its thread's answer (a wake-up only prompts collecting quiet answers). */
type Reply = Exclude<FromWorker, { t: 'wake' }>;

class WorkerHost extends ResourceBase implements ModuleHost, QuietMember {
  subscription = new Subscription([]);
  hasSessionHooks = false;
  readonly label: string;
  readonly #thread: Thread;
  readonly #logger: Logger;
  readonly #clock: BusyClock;
  #current: QueuedIterator<Reply> | null = null;
  /** Round input, written here and read by the worker (one round in flight per host). */
  #input = new SharedBatch();
  /** The input buffer the thread last got in a message: the doorbell can only point into that one. */
  #threadInput: ArrayBufferLike | null = null;
  /** Set once the thread takes no more requests: why the pending and later ones fail. */
  #gone: Error | null = null;

  constructor(opts: HostOptions, thread: Thread) {
    super();
    const label = opts.label;
    this.label = label;
    this.#thread = thread;
    this.#logger = opts.logger;
    // Past process_timeout, or a stop that will not wait, the thread goes as if it had died.
    this.#clock = opts.watchdog.clock(label, opts.limits, (reason) => this.#fail(reason));
    const { stream, barrier, worker } = thread;
    stream.on('message', (message: FromWorker) => {
      if (message.t === 'chunk') return this.#current?.push(message); // the thread works on
      if (message.t !== 'wake') {
        this.#clock.end();
        barrier.leave(this);
        this.#current?.push(message);
      }
      barrier.sweep();
    });
    worker.on('error', (error) => this.#fail(new ModuleError(label, `worker crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) =>
      this.#fail(new ModuleError(label, code === 0 ? 'module closed' : `worker exited with code ${code}`)),
    );
  }

  /** Until the thread exits, crashes or is closed. */
  get threads(): number {
    return this.#gone === null ? 1 : 0;
  }

  ready(subscription: Subscription, hasSessionHooks: boolean): void {
    this.subscription = subscription;
    this.hasSessionHooks = hasSessionHooks;
  }

  async *process(sessionId: number, sources: Source[], events: Event[]): AsyncIterable<RegisterEvent[]> {
    const batch = encodeRound(events, sources, this.#input);
    // A round's input crosses whole; a buffer a large round grew is not kept for the small ones.
    if (this.#input.bytes.length > INPUT_KEPT_BYTES) this.#input = new SharedBatch();
    // Each chunk is decoded and its slot freed as it comes, while the thread fills the next.
    for await (const reply of this.#request({ t: 'round', session: sessionId, batch })) {
      if (reply.t === 'error') throw this.#moduleError('process failed', reply);
      if (reply.length > 0) yield this.#take(reply);
      if (reply.t !== 'end') continue;
      if (reply.waits > 0)
        this.#logger.debug('module outputs waited for the engine to take them', { module: this.label, session: sessionId, waits: reply.waits });
      return;
    }
  }

  async stopSession(sessionId: number): Promise<void> {
    for await (const reply of this.#request({ t: 'stop', session: sessionId })) {
      if (reply.t === 'error') throw this.#moduleError('session hook failed', reply);
      return;
    }
  }

  protected override async teardown(failure: Error | undefined): Promise<void> {
    if (!failure) {
      // Let the module release what it holds, but never wait on a stuck module for long.
      const done = this.#thread.remote.close().catch(() => {});
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    }
    this.#abandon(new ModuleError(this.label, 'closed'));
    const { remote, stream, otherPorts, worker } = this.#thread;
    remote[Comlink.releaseProxy]();
    stream.close();
    for (const port of otherPorts) port.close();
    await worker.terminate();
  }

  #request(message: ToWorker): QueuedIterator<Reply> {
    const replies = new QueuedIterator<Reply>();
    if (this.#gone) {
      replies.fail(this.#gone);
      return replies;
    }
    this.#current = replies;
    const { barrier, bell, stream } = this.#thread;
    this.#clock.begin(message.session);
    barrier.enter(this);
    if (message.t === 'stop') {
      if (!bell.ring(RequestKind.Stop, message.session, 0)) stream.postMessage(message);
    } else if (message.batch.buffer !== this.#threadInput || message.batch.byteOffset !== 0 || !bell.ring(RequestKind.Round, message.session, message.batch.length)) {
      this.#threadInput = message.batch.buffer;
      stream.postMessage(message);
    }
    return replies;
  }

  takeQuiet(): boolean {
    const length = QuietAnswer.take(this.#thread.quietStatus);
    if (length < 0) return false;
    this.#clock.end();
    this.#current?.push({ t: 'end', slot: 0, length, waits: 0 }); // a quiet answer is the only chunk
    return true;
  }

  #take(chunk: ChunkPlace): RegisterEvent[] {
    const { output } = this.#thread;
    const events = decodeRegisterEvents(output.bytes(chunk));
    output.release(chunk);
    return events;
  }

  #moduleError(what: string, reply: Extract<FromWorker, { t: 'error' }>): ModuleError {
    const cause = Object.assign(new Error(reply.message), { stack: reply.stack });
    return new ModuleError(this.label, `${what}: ${reply.message}`, { cause });
  }

  /** The thread died or left: what is pending fails now, and the host closes on its own. */
  #fail(reason: Error): void {
    this.#abandon(reason);
    void this.lifecycle.fail(reason);
  }

  /** No more requests: the pending one fails with `reason` (the first reason wins). */
  #abandon(reason: Error): void {
    if (this.#gone) return;
    this.#gone = reason;
    this.#clock.end();
    this.#thread.barrier.abandon(this);
    this.#current?.fail(reason);
    this.#current = null;
  }
}
