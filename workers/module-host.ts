// Entry of a module's own worker thread (workers: 1). Creates the module, then serves the session
// stream on its port; the module reaches the engine through comlink.
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ModuleRuntime, checkModule, hasSessionHooks, toSubscription } from '../src/engine/module-runtime.ts';
import { loadModuleExports, validateModuleConf } from '../src/engine/module-loader.ts';
import { remoteModuleEngine } from '../src/engine/worker-protocol.ts';
import { SharedBatch, decodeRound, encodeRegisterEvents } from '../src/engine/event-batch-codec.ts';
import type { FromWorker, InitRequest, InitResult, ToWorker, WorkerControl } from '../src/engine/worker-protocol.ts';

interface HostWorkerData {
  control: MessagePort;
  stream: MessagePort;
  engine: MessagePort;
}

const ports = workerData as HostWorkerData;
const moduleEngine = remoteModuleEngine(ports.engine as unknown as Comlink.Endpoint);

let runtime: ModuleRuntime | null = null;

/** Round outputs, written here and read by the engine before it sends the next round. */
const output = new SharedBatch();

function send(message: FromWorker): void {
  ports.stream.postMessage(message);
}

async function handle(message: ToWorker): Promise<void> {
  let outputs;
  try {
    if (!runtime) throw new Error('module not initialised');
    const { events, sources } = decodeRound(message.batch);
    outputs = await runtime.round(message.session, sources, events);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    send({ t: 'error', message: e.message, stack: e.stack });
    return;
  }
  send({ t: 'end', batch: encodeRegisterEvents(outputs, output) });
}

// The engine sends one request at a time and waits for its answer, so handling in arrival order
// needs no queue of our own.
ports.stream.on('message', (message: ToWorker) => {
  void handle(message);
});

const control: WorkerControl = {
  async init(request: InitRequest): Promise<InitResult> {
    const exports = await loadModuleExports(request.label, request.specifier);
    const conf = validateModuleConf(request.label, exports, request.conf);
    const module = await exports.create(conf, moduleEngine, request.source);
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
  async stopSession(sessionId: number): Promise<void> {
    if (!runtime) throw new Error('module not initialised');
    await runtime.stop(sessionId);
  },
  async close(): Promise<void> {
    await runtime?.module.close?.();
  },
};

Comlink.expose(control, ports.control as unknown as Comlink.Endpoint);
