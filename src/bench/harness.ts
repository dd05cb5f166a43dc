// The bench command's load harness (main thread): every cell (mode × batch × connections),
// repeated, with its connections spread over a piscina pool of worker threads, one task per
// group of connections; the groups' results are merged into the cell's figures, beside this
// process's CPU use (a client-bound figure shows as such) and the server's when its pid is known.
import os from 'node:os';
import { Piscina } from 'piscina';
import { workerEntry } from '../common/worker-entry.ts';
import { LoadControl, sharedClock, type BenchMode, type LoadResult, type LoadTask } from './load.ts';
import { assertProcessReadable, processCpuSeconds, processRssBytes } from './process-stats.ts';
import { mergeSamples, percentileOfSorted } from './stats.ts';

export interface BenchOptions {
  /** the eventer server, tcp+sbs://HOST:PORT */
  address: string;
  modes: BenchMode[];
  batches: number[];
  connections: number[];
  durationSeconds: number;
  warmUpSeconds: number;
  /** bytes of each event's JSON payload */
  payloadBytes: number;
  repeat: number;
  /** worker threads of the load generator */
  threads: number;
  /** the server's process, for its CPU and memory (Linux /proc) */
  serverPid: number | null;
}

export interface CellSpec {
  mode: BenchMode;
  batch: number;
  connections: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** requests measured (the percentiles come from a uniform sample of them) */
  requests: number;
}

export interface CellRun {
  events: number;
  requests: number;
  seconds: number;
  eventsPerSec: number;
  requestsPerSec: number;
  /** ms, waited mode only */
  latencyMs: LatencySummary | null;
  /** CPU time of the load generator (this process) per second, % of one core */
  clientCpuPercent: number;
  /** worker threads the cell used: a client CPU near 100 % of each is client-bound */
  threads: number;
  serverCpuPercent: number | null;
  /** the highest the server's RSS was while measuring */
  serverRssMiB: number | null;
}

export interface CellResult extends CellSpec {
  runs: CellRun[];
}

export type BenchPhase = 'connecting' | 'warm-up' | 'measuring' | 'finishing';

export interface BenchProgress {
  cell: CellSpec;
  /** 0-based position of the cell among `cells` */
  index: number;
  cells: number;
  repetition: number;
  phase: BenchPhase;
  /** seconds into the phase (warm-up, measuring; 0 while connecting) */
  elapsedSeconds: number;
  /** the events confirmed per second over the last second, while measuring */
  eventsPerSec: number;
}

export interface BenchHooks {
  onProgress?: (progress: BenchProgress) => void;
  /** ends the run at the next request of every connection; runBench then throws */
  signal?: AbortSignal;
}

const PROGRESS_MS = 200;
const RSS_SAMPLE_MS = 250;
const SAMPLES_PER_TASK = 250_000;
/** connecting and building requests, per cell run */
const READY_TIMEOUT_MS = 30_000;

export class BenchInterruptedError extends Error {
  constructor() {
    super('benchmark interrupted, nothing written');
    this.name = 'BenchInterruptedError';
  }
}

export function cellsOf(options: BenchOptions): CellSpec[] {
  return options.modes.flatMap((mode) =>
    options.batches.flatMap((batch) => options.connections.map((connections) => ({ mode, batch, connections }))));
}

export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<CellResult[]> {
  if (options.serverPid !== null) assertProcessReadable(options.serverPid);
  const cells = cellsOf(options);
  const pool = new Piscina({
    filename: workerEntry('bench-load').href,
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: 60_000,
  });
  try {
    const results: CellResult[] = [];
    for (const [index, cell] of cells.entries()) {
      const runs: CellRun[] = [];
      for (let repetition = 1; repetition <= options.repeat; repetition++) {
        const report = (phase: BenchPhase, elapsedSeconds: number, eventsPerSec: number): void =>
          hooks.onProgress?.({ cell, index, cells: cells.length, repetition, phase, elapsedSeconds, eventsPerSec });
        runs.push(await runCell(pool, options, cell, report, hooks.signal));
      }
      results.push({ ...cell, runs });
    }
    return results;
  } finally {
    await pool.destroy();
  }
}

async function runCell(
  pool: Piscina, options: BenchOptions, cell: CellSpec,
  report: (phase: BenchPhase, elapsedSeconds: number, eventsPerSec: number) => void, signal: AbortSignal | undefined,
): Promise<CellRun> {
  const groups = Math.min(options.threads, cell.connections);
  const control = new LoadControl(groups);
  let first = 0;
  const tasks = Array.from({ length: groups }, (_, slot): LoadTask => {
    const connections = Math.floor(cell.connections / groups) + (slot < cell.connections % groups ? 1 : 0);
    const task: LoadTask = {
      address: options.address, mode: cell.mode, batch: cell.batch, connections, firstConnection: first,
      payloadBytes: options.payloadBytes, warmUpSeconds: options.warmUpSeconds, durationSeconds: options.durationSeconds,
      control: control.buffer, slot, sampleCapacity: SAMPLES_PER_TASK,
    };
    first += connections;
    return task;
  });
  report('connecting', 0, 0);
  let failure: unknown = null;
  const running = tasks.map((task) => (pool.run(task) as Promise<LoadResult>).catch((err: unknown) => {
    failure ??= err;
    control.stop();
    throw err;
  }));
  for (const run of running) run.catch(() => undefined); // awaited below; never an unhandled rejection
  const onAbort = (): void => control.stop();
  signal?.addEventListener('abort', onAbort);
  const timers: NodeJS.Timeout[] = [];
  try {
    const readyBy = performance.now() + READY_TIMEOUT_MS;
    while (control.ready < groups && failure === null && !signal?.aborted) {
      if (performance.now() > readyBy) throw new Error(`the load threads did not connect within ${READY_TIMEOUT_MS / 1000} s`);
      await sleep(5);
    }
    if (failure !== null || signal?.aborted) {
      control.stop();
      await Promise.allSettled(running);
      if (failure !== null) throw failure;
      throw new BenchInterruptedError();
    }

    const goAt = sharedClock() + 10;
    const windowStart = goAt + options.warmUpSeconds * 1000;
    let clientCpu0 = process.cpuUsage();
    let server0 = options.serverPid === null ? 0 : processCpuSeconds(options.serverPid);
    let wall0 = sharedClock();
    let rssPeak = 0;
    timers.push(setTimeout(() => {
      clientCpu0 = process.cpuUsage();
      server0 = options.serverPid === null ? 0 : processCpuSeconds(options.serverPid);
      wall0 = sharedClock();
    }, windowStart - sharedClock()));
    if (options.serverPid !== null) {
      const pid = options.serverPid;
      timers.push(setInterval(() => {
        if (sharedClock() >= windowStart) rssPeak = Math.max(rssPeak, processRssBytes(pid));
      }, RSS_SAMPLE_MS));
    }
    // The rate over the last second (events are counted when the server confirms them, in bursts).
    const recent: { at: number; events: number }[] = [{ at: windowStart, events: 0 }];
    timers.push(setInterval(() => {
      const at = sharedClock();
      if (at < windowStart) recent.length = 0; // the rate is of the measured window only
      recent.push({ at, events: control.measuredEvents() });
      if (recent.length > 1000 / PROGRESS_MS + 1) recent.shift();
      const rate = recent.length < 2 ? 0 : ((recent[recent.length - 1]!.events - recent[0]!.events) * 1000) / (at - recent[0]!.at);
      const windowEnd = windowStart + options.durationSeconds * 1000;
      if (at < windowStart) report('warm-up', (at - goAt) / 1000, 0);
      else report(at < windowEnd ? 'measuring' : 'finishing', (Math.min(at, windowEnd) - windowStart) / 1000, rate);
    }, PROGRESS_MS));
    control.go(goAt);

    const results = await Promise.all(running);
    if (signal?.aborted) throw new BenchInterruptedError();
    const wall = (sharedClock() - wall0) / 1000;
    const cpu = process.cpuUsage(clientCpu0);
    if (options.serverPid !== null) rssPeak = Math.max(rssPeak, processRssBytes(options.serverPid));
    return mergeResults(results, {
      clientCpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
      threads: groups,
      serverCpuPercent: options.serverPid === null ? null : ((processCpuSeconds(options.serverPid) - server0) / wall) * 100,
      serverRssMiB: options.serverPid === null ? null : rssPeak / 2 ** 20,
    }, cell.mode);
  } catch (err) {
    control.stop();
    await Promise.allSettled(running);
    throw err;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function mergeResults(
  results: LoadResult[], usage: Pick<CellRun, 'clientCpuPercent' | 'threads' | 'serverCpuPercent' | 'serverRssMiB'>, mode: BenchMode,
): CellRun {
  const events = results.reduce((sum, r) => sum + r.events, 0);
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const seconds = (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000;
  let latencyMs: LatencySummary | null = null;
  if (mode === 'waited' && requests > 0) {
    const sorted = mergeSamples(results.map((r) => ({ values: r.latencies, count: r.latencyCount }))).sort();
    latencyMs = {
      p50: percentileOfSorted(sorted, 0.5),
      p99: percentileOfSorted(sorted, 0.99),
      p999: percentileOfSorted(sorted, 0.999),
      max: Math.max(...results.map((r) => r.maxLatency)),
      requests,
    };
  }
  return { events, requests, seconds, eventsPerSec: events / seconds, requestsPerSec: requests / seconds, latencyMs, ...usage };
}

/** Whether the load generator, not the server, may have set the pace of a run. */
export function clientBound(run: CellRun): boolean {
  return run.clientCpuPercent >= 90 * Math.min(run.threads, os.availableParallelism());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
