// Entry of a module's own worker thread (workers: 1, and each thread of workers: N); the thread's
// code is the engine's (src/engine/threads/worker-side.ts).
import '../src/engine/threads/worker-side.ts';
