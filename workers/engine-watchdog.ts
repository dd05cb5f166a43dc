// Entry of the engine's watchdog thread; what the thread does is the engine's
// (src/engine/threads/watchdog-side.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { serveWatchdogThread, type WatchdogData } from '../src/engine/threads/watchdog-side.ts';

serveWatchdogThread(workerData as WatchdogData, parentPort!);
