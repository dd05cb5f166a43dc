// The side of a module's own worker thread (workers: 1, and each thread of workers: N) that runs
// in the thread: creates the module, then serves the session's requests — from its port, or from
// the doorbell while it watches it; the module reaches the engine through comlink. The thread's
// entry file (workers/module-worker.ts) only calls serveModuleThread.
import * as Comlink from 'comlink';
import { ModuleRuntime, checkModule, hasSessionHooks, toSubscription } from '../hosts/module-runtime.ts';
import { loadPlugin } from '../../loader/plugin.ts';
import type { ModuleExports } from '../types.ts';
import { remoteModuleEngine } from './worker-protocol.ts';
import { decodeRound } from './event-batch-codec.ts';
import { OutputArea, OutputStream } from './output-stream.ts';
import { Doorbell, RequestKind } from './doorbell.ts';
import { QuietAnswer } from './round-barrier.ts';
import type { BellRequest } from './doorbell.ts';
import type { FromWorker, HostWorkerData, InitRequest, InitResult, ThreadWarning, ToWorker, WorkerControl } from './worker-protocol.ts';
import { parentPort } from 'node:worker_threads';
import { takeNodeWarnings } from '../../common/node-warnings.ts';

/** Serves one module in this thread, until the engine terminates it or the module closes itself. */
export function serveModuleThread(data: HostWorkerData): void {
  // Node would print the thread's warnings (importing the module again can warn) on stderr
  takeNodeWarnings((fields) => parentPort?.postMessage({ t: 'warning', fields } satisfies ThreadWarning));
  const moduleEngine = remoteModuleEngine(data.engine as unknown as Comlink.Endpoint);
  const bell = new Doorbell(data.bell, data.watch);
  const quiet = new QuietAnswer(data.quietStatus, data.roundCounter);

  let runtime: ModuleRuntime | null = null;

  /** Round outputs, handed to the engine in chunks as the module yields them. */
  const output = new OutputStream(new OutputArea(data.output), (chunk) =>
    data.stream.postMessage({ t: 'chunk', ...chunk } satisfies FromWorker),
  );
  /** The engine's round input buffer, as the last round message brought it. */
  let input: Uint8Array = new Uint8Array(0);
  let answeredAt = 0;

  async function serve(request: ToWorker): Promise<void> {
    let answer: FromWorker;
    try {
      if (!runtime) throw new Error('module not initialised');
      output.begin();
      if (request.t === 'stop') {
        await runtime.stop(request.session);
      } else {
        const { events, sources } = decodeRound(request.batch);
        await runtime.round(request.session, sources, events, output);
      }
      answer = { t: 'end', waits: output.waits, ...output.end() };
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      answer = { t: 'error', message: e.message, stack: e.stack };
    }
    send(answer);
  }

  function send(answer: FromWorker): void {
    const watching = bell.willWatch();
    // An answer that is the request's only chunk (in the first slot) can be left quietly; after
    // chunks went as messages it must follow them on the same port.
    if (answer.t === 'end' && output.handed === 0) {
      if (quiet.leave(answer.length)) data.stream.postMessage({ t: 'wake' } satisfies FromWorker);
    } else {
      quiet.finish();
      data.stream.postMessage(answer);
    }
    answeredAt = performance.now();
    if (!watching) return;
    const next = bell.watch();
    if (next) void serve(fromBell(next));
  }

  function fromBell(request: BellRequest): ToWorker {
    return request.kind === RequestKind.Stop
      ? { t: 'stop', session: request.session }
      : { t: 'round', session: request.session, batch: input.subarray(0, request.length) };
  }

  // The engine sends one request at a time and waits for its answer, so serving in arrival order
  // needs no queue of our own.
  data.stream.on('message', (request: ToWorker) => {
    bell.noteWait(performance.now() - answeredAt);
    if (request.t === 'round') input = new Uint8Array(request.batch.buffer);
    void serve(request);
  });

  const control: WorkerControl = {
    async init(request: InitRequest): Promise<InitResult> {
      // The main thread has loaded and checked the module and its configuration; a thread has to
      // import it again for itself.
      const exports = (await loadPlugin('module', request.specifier)) as ModuleExports;
      const module = await exports.create(request.conf, moduleEngine, request.source);
      checkModule(module);
      runtime = new ModuleRuntime(module);
      // A module that closes itself ends its thread; the engine sees the exit and closes.
      module.closed?.then(
        () => process.exit(0),
        () => process.exit(1),
      );
      return {
        queryTypes: toSubscription(module.subscription).getQueryTypes().map((t) => [...t]),
        hasSessionHooks: hasSessionHooks(module),
      };
    },
    async close(): Promise<void> {
      await runtime?.module.close?.();
    },
  };

  Comlink.expose(control, data.control as unknown as Comlink.Endpoint);
}
