// Engine throughput: sessions/s and events/s for module placements on the main thread (workers: 0),
// in own worker threads (workers: 1) and spread over two threads (workers: 2). Every configuration runs several
// times, alternating, and the table reports the median and the spread (min..max), because these
// 2 vCPUs sometimes give only about one core of throughput. Each measurement gets a fresh engine
// and memory backend: a store grown by earlier runs would make later ones measure its GC. Each
// repetition also measures the same CPU work on bare threads (thread-ceiling.ts): what the machine
// allows at that moment. Whether modules in their own threads really work at the same time is
// the (d) ratio below (two CPU-heavy modules, workers 1 against 0): a wall-clock question, so it
// is measured here rather than asserted in a test.
//
//   npm run bench:engine -- [--reps 5] [--seconds 1] [--json bench/results/engine.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../src/engine/index.ts';
import type { Engine, ModuleConf } from '../src/engine/index.ts';
import { createMemoryBackend } from '../src/backends/memory.ts';
import type { Event, RegisterEvent, Source } from '../src/common/types.ts';
import { Worker } from 'node:worker_threads';
import { SharedBatch, decodeRound, encodeRound } from '../src/engine/threads/event-batch-codec.ts';
import { calibrate } from './modules/cpu-work.ts';
import { measureCeiling } from './thread-ceiling.ts';
import { median } from '../src/bench/stats.ts';
import type { Ceiling } from './thread-ceiling.ts';

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const reps = Number(args.reps);
const seconds = Number(args.seconds);
const cpuModule = path.join(import.meta.dirname, 'modules/cpu-work.ts');
const SOURCE: Source = { type: 'eventer', id: 1 };
const WINDOW = 8; // outstanding register calls, so the engine's queue never runs dry

interface Setup {
  name: string;
  modules: (workers: number) => ModuleConf[];
  /** `workers` values compared, and session sizes (default: 0 and 1, sizes 1 and 100). */
  placements?: number[];
  sizes?: number[];
}

// ~50 µs of CPU per event for the heavy setups: a fixed amount of work, calibrated once here, so
// every placement does exactly the same work.
const iterations = calibrate(50);
const trivial = { module: cpuModule, iterations: 0 };
const heavy = { module: cpuModule, iterations };
const setups: Setup[] = [
  { name: '(a) no modules', modules: () => [] },
  { name: '(b) 1 trivial module', modules: (workers) => [{ ...trivial, workers }] },
  { name: '(c) 4 trivial modules', modules: (workers) => [0, 1, 2, 3].map(() => ({ ...trivial, workers })) },
  { name: '(d) 2 CPU-heavy modules', modules: (workers) => [0, 1].map(() => ({ ...heavy, workers })) },
  { name: '(e) 1 stateless CPU-heavy module', modules: (workers) => [{ ...heavy, workers }], placements: [1, 2], sizes: [100] },
];

interface Config {
  setup: string;
  workers: number;
  size: number;
  modules: ModuleConf[];
  sessionsPerSecond: number[];
}

function batch(size: number): RegisterEvent[] {
  return Array.from({ length: size }, (_, i) => ({
    type: ['bench', String(i % 10)],
    sourceTimestamp: null,
    payload: { type: 'json', data: i },
  }));
}

/** Runs sessions of one size for `seconds`, WINDOW at a time; returns sessions per second. */
async function measure(engine: Engine, size: number, seconds: number): Promise<number> {
  const events = batch(size);
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const start = performance.now();
  const lane = async () => {
    while (performance.now() < deadline) {
      await engine.register(SOURCE, events);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return done / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const configs: Config[] = [];
  for (const setup of setups) {
    for (const workers of setup.placements ?? [0, 1]) {
      for (const size of setup.sizes ?? [1, 100]) {
        configs.push({ setup: setup.name, workers, size, modules: setup.modules(workers), sessionsPerSecond: [] });
      }
    }
  }
  const ceilings: Ceiling[] = [];
  for (let rep = 0; rep < reps; rep++) {
    ceilings.push(await measureCeiling(iterations, 100, seconds));
    for (const config of configs) {
      const engine = await createEngine({ server_id: 1, modules: config.modules }, await createMemoryBackend());
      await measure(engine, config.size, 0.5); // warm-up: threads running, code optimised
      config.sessionsPerSecond.push(await measure(engine, config.size, seconds));
      await engine.close();
    }
    process.stderr.write(`rep ${rep + 1}/${reps} done\n`);
  }

  const rows = configs.map((c) => {
    const med = median(c.sessionsPerSecond);
    return {
      setup: c.setup,
      workers: c.workers,
      sessionSize: c.size,
      sessionsPerSecond: Math.round(med),
      eventsPerSecond: Math.round(med * c.size),
      spread: [Math.round(Math.min(...c.sessionsPerSecond)), Math.round(Math.max(...c.sessionsPerSecond))],
      runs: c.sessionsPerSecond.map(Math.round),
    };
  });
  console.log(`| setup | workers | session size | sessions/s (median) | events/s (median) | sessions/s min..max |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const r of rows)
    console.log(
      `| ${r.setup} | ${r.workers} | ${r.sessionSize} | ${r.sessionsPerSecond} | ${r.eventsPerSecond} | ${r.spread[0]}..${r.spread[1]} |`,
    );

  const config = (setup: string, workers: number, size: number) =>
    configs.find((c) => c.setup.startsWith(setup) && c.workers === workers && c.size === size)!.sessionsPerSecond;
  // Each ratio two ways: of the medians, and the median of the ratios within each repetition (the
  // two configurations ran seconds apart there, so a phase in which this VM is slower or faster
  // cancels out).
  const ratio = (setup: string, workers: [number, number], size: number) => {
    const [top, bottom] = [config(setup, workers[0], size), config(setup, workers[1], size)];
    const paired = top.map((x, i) => x / (bottom[i] as number));
    return { ofMedians: median(top) / median(bottom), paired: median(paired), pairedSpread: [Math.min(...paired), Math.max(...paired)] };
  };
  const ratios = {
    'd: workers 1 / workers 0, size 100 (target >= 1.8)': ratio('(d)', [1, 0], 100),
    'd: workers 1 / workers 0, size 1': ratio('(d)', [1, 0], 1),
    'b: workers 1 / workers 0, size 100 (target >= 0.5)': ratio('(b)', [1, 0], 100),
    'b: workers 1 / workers 0, size 1': ratio('(b)', [1, 0], 1),
    'e: workers 2 / workers 1, size 100 (target >= 1.8)': ratio('(e)', [2, 1], 100),
  };
  console.log('\nratios: of the medians | median of the per-repetition ratios (min..max)');
  for (const [name, r] of Object.entries(ratios))
    console.log(`  ${name}: ${r.ofMedians.toFixed(2)} | ${r.paired.toFixed(2)} (${r.pairedSpread.map((x) => x.toFixed(2)).join('..')})`);
  // The same CPU work on bare threads in the same run (bench/thread-ceiling.ts): what the machine allows.
  const ceiling = {
    'd: two bare threads / main thread': ceilings.map((c) => c.twoThreadsFull / c.main),
    'e: two bare threads / one bare thread': ceilings.map((c) => c.twoThreadsHalf / c.oneThread),
    'd compute limit: two spinning threads / main thread': ceilings.map((c) => c.spinningTwoFull / c.main),
    'e compute limit: two spinning threads / one spinning thread': ceilings.map((c) => c.spinningTwoHalf / c.spinningOne),
  };
  console.log(`\nceiling: the heavy work on bare threads with a plain message per round, and with no messages at all (median of ${reps} runs):`);
  for (const [name, runs] of Object.entries(ceiling))
    console.log(`  ${name}: ${median(runs).toFixed(2)} (runs ${runs.map((x) => x.toFixed(2)).join(', ')})`);
  // Per-session cost of a worker round trip, derived from (b): where the time over workers: 0 goes.
  const overheadUs = (1e6 / median(config('(b)', 1, 100)) - 1e6 / median(config('(b)', 0, 100))).toFixed(0);
  console.log(`  b, size 100: a worker module adds ${overheadUs} µs per session over the main thread`);

  const breakdown = await measureBreakdown();
  console.log('\nwhere a worker round of 100 events spends its time (µs, median of 2000):');
  for (const [name, value] of Object.entries(breakdown)) console.log(`  ${name}: ${value.toFixed(1)}`);

  if (args.json) {
    mkdirSync(path.dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), reps, seconds, window: WINDOW, iterations, rows, ratios, ceilings, breakdown }, null, 1));
    console.log(`\nwrote ${args.json}`);
  }
}

/** The parts of a worker round: batch encoding, decoding, and a bare message round trip to a thread. */
async function measureBreakdown(): Promise<Record<string, number>> {
  const events: Event[] = batch(100).map((e, i) => ({ ...e, id: { server: 1, session: 1, instance: i }, timestamp: { s: 1, us: 0 } }));
  const sources = events.map(() => SOURCE);
  const time = (f: () => void) => {
    for (let i = 0; i < 5000; i++) f(); // let the JIT settle first
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const start = performance.now();
      f();
      samples.push((performance.now() - start) * 1000);
    }
    return median(samples);
  };
  const into = new SharedBatch(); // reused, as a module host reuses its buffer
  const encoded = encodeRound(events, sources);
  const echo = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m))`, { eval: true });
  const roundTrips: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const start = performance.now();
    await new Promise((resolve) => {
      echo.once('message', resolve);
      echo.postMessage({ t: 'end' });
    });
    roundTrips.push((performance.now() - start) * 1000);
  }
  await echo.terminate();
  return {
    'encode 100 events (main thread)': time(() => encodeRound(events, sources, into)),
    'decode 100 events (worker side)': time(() => decodeRound(encoded)),
    'bare message round trip to a thread': median(roundTrips),
  };
}

await main();
