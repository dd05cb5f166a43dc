// Entry of a module's own worker thread (workers: 1, and each thread of workers: N); what the
// thread does is the engine's (src/engine/threads/worker-side.ts).
import { workerData } from 'node:worker_threads';
import { serveModuleThread } from '../src/engine/threads/worker-side.ts';
import type { HostWorkerData } from '../src/engine/threads/worker-protocol.ts';

serveModuleThread(workerData as HostWorkerData);
