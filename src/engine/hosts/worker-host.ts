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
import { postableEngine } from '../threads/worker-protocol.ts';
import { ModuleError } from '../errors.ts';
import { describeError } from '../../common/describe-error.ts';
import { workerEntry } from '../../common/worker-entry.ts';
import { ResourceBase } from '../../common/resource.ts';

export async function createWorkerHost(opts: HostOptions): Promise<ModuleHost> {
  const control = new MessageChannel();
  const stream = new MessageChannel();
  const engine = new MessageChannel();
  const bell = new Doorbell();
  const quietStatus = new SharedArrayBuffer(QUIET_STATUS_BYTES);
  const workerData: HostWorkerData = {
    control: control.port2,
    stream: stream.port2,
    engine: engine.port2,
    bell: bell.buffer,
    watch: opts.watch,
    roundCounter: opts.barrier.counter,
    quietStatus,
  };
  const worker = new Worker(workerEntry('module-worker'), {
    workerData,
    transferList: [control.port2, stream.port2, engine.port2],
    name: opts.label,
  });
  Comlink.expose(postableEngine(opts.engine), engine.port1 as unknown as Comlink.Endpoint);
  const remote = Comlink.wrap<WorkerControl>(control.port1 as unknown as Comlink.Endpoint);
  const host = new WorkerHost(opts.label, {
    worker,
    remote,
    stream: stream.port1,
    bell,
    barrier: opts.barrier,
    quietStatus: new Int32Array(quietStatus),
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
  /** Closed with the host. */
  otherPorts: MessagePort[];
}

/** What a request gets back: its thread's answer (a wake-up only prompts collecting quiet answers). */
type Answer = Exclude<FromWorker, { t: 'wake' }>;

class WorkerHost extends ResourceBase implements ModuleHost, QuietMember {
  subscription = new Subscription([]);
  hasSessionHooks = false;
  readonly label: string;
  readonly #thread: Thread;
  #current: QueuedIterator<Answer> | null = null;
  /** Round input, written here and read by the worker (one round in flight per host). */
  readonly #input = new SharedBatch();
  /** The input buffer the thread last got in a message: the doorbell can only point into that one. */
  #threadInput: ArrayBufferLike | null = null;
  /** The thread's output buffer, as its last posted batch showed it: quiet answers are in there. */
  #threadOutput: ArrayBufferLike | null = null;
  /** Set once the thread takes no more requests: why the pending and later ones fail. */
  #gone: Error | null = null;

  constructor(label: string, thread: Thread) {
    super();
    this.label = label;
    this.#thread = thread;
    const { stream, barrier, worker } = thread;
    stream.on('message', (message: FromWorker) => {
      if (message.t !== 'wake') {
        if (message.t === 'end') this.#threadOutput = message.batch.buffer;
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
    for await (const reply of this.#request({ t: 'round', session: sessionId, batch })) {
      if (reply.t === 'error') throw this.#moduleError('process failed', reply);
      if (reply.batch.length > 0) yield decodeRegisterEvents(reply.batch);
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

  #request(message: ToWorker): QueuedIterator<Answer> {
    const replies = new QueuedIterator<Answer>();
    if (this.#gone) {
      replies.fail(this.#gone);
      return replies;
    }
    this.#current = replies;
    const { barrier, bell, stream } = this.#thread;
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
    this.#current?.push({ t: 'end', batch: new Uint8Array(this.#threadOutput as ArrayBuffer, 0, length) });
    return true;
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
    this.#thread.barrier.abandon(this);
    this.#current?.fail(reason);
    this.#current = null;
  }
}
