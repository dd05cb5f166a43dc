// Engine throughput: sessions/s and events/s for module placements on the main thread (workers: 0),
// in own worker threads (workers: 1) and spread over two threads (workers: 2). Every configuration runs several
// times, alternating, and the table reports the median and the spread (min..max), because these
// 2 vCPUs sometimes give only about one core of throughput. Each measurement gets a fresh engine
// and memory backend: a store grown by earlier runs would make later ones measure its GC. Each
// repetition also measures the same CPU work on bare threads (thread-ceiling.ts): what the machine
// allows at that moment. Whether modules in their own threads really work at the same time is
// the (d) ratio below (two CPU-heavy modules, workers 1 against 0): a wall-clock question, so it
// is measured here rather than asserted in a test. The targets are stated against the ceiling of
// the same run: (d) >= 0.95 of it, (e) >= 0.9 of its own, and (b) >= 0.5.
//
// With --before DIR (a checkout of an earlier commit, with node_modules), every configuration also
// runs on that tree's engine, alternating with this one within each repetition: before/after in
// one run. --only b,d limits the setups to those letters.
//
//   npm run bench:engine -- [--reps 5] [--seconds 1] [--only b,d] [--before DIR] [--json bench/results/engine.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as thisEngine from '../src/engine/index.ts';
import type { Engine, ModuleConf } from '../src/engine/index.ts';
import * as thisMemoryBackend from '../src/backends/memory.ts';
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
    only: { type: 'string' },
    before: { type: 'string' },
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
const allSetups: Setup[] = [
  { name: '(a) no modules', modules: () => [] },
  { name: '(b) 1 trivial module', modules: (workers) => [{ ...trivial, workers }] },
  { name: '(c) 4 trivial modules', modules: (workers) => [0, 1, 2, 3].map(() => ({ ...trivial, workers })) },
  { name: '(d) 2 CPU-heavy modules', modules: (workers) => [0, 1].map(() => ({ ...heavy, workers })) },
  { name: '(e) 1 stateless CPU-heavy module', modules: (workers) => [{ ...heavy, workers }], placements: [1, 2], sizes: [100] },
];
const only = args.only?.split(',').map((letter) => `(${letter.trim()})`);
const setups = allSetups.filter((setup) => !only || only.some((prefix) => setup.name.startsWith(prefix)));

/** An engine to measure: this tree's, or (--before) an earlier checkout's. */
interface Tree {
  name: string;
  createEngine: typeof thisEngine.createEngine;
  createMemoryBackend: typeof thisMemoryBackend.createMemoryBackend;
}
const trees: Tree[] = [{ name: 'this tree', createEngine: thisEngine.createEngine, createMemoryBackend: thisMemoryBackend.createMemoryBackend }];
if (args.before) {
  const root = path.resolve(args.before);
  const engine = (await import(path.join(root, 'src/engine/index.ts'))) as typeof thisEngine;
  const memory = (await import(path.join(root, 'src/backends/memory.ts'))) as typeof thisMemoryBackend;
  trees.push({ name: `before (${root})`, createEngine: engine.createEngine, createMemoryBackend: memory.createMemoryBackend });
}

interface Config {
  tree: Tree;
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
        for (const tree of trees) configs.push({ tree, setup: setup.name, workers, size, modules: setup.modules(workers), sessionsPerSecond: [] });
      }
    }
  }
  const ceilings: Ceiling[] = [];
  for (let rep = 0; rep < reps; rep++) {
    ceilings.push(await measureCeiling(iterations, 100, seconds));
    // With two trees, which one goes first alternates from one repetition to the next.
    const order = rep % 2 === 0 ? configs : reorderPairs(configs);
    for (const config of order) {
      const engine = await config.tree.createEngine({ server_id: 1, modules: config.modules }, await config.tree.createMemoryBackend());
      await measure(engine, config.size, 0.5); // warm-up: threads running, code optimised
      config.sessionsPerSecond.push(await measure(engine, config.size, seconds));
      await engine.close();
    }
    process.stderr.write(`rep ${rep + 1}/${reps} done\n`);
  }

  const rows = configs.map((c) => {
    const med = median(c.sessionsPerSecond);
    return {
      tree: c.tree.name,
      setup: c.setup,
      workers: c.workers,
      sessionSize: c.size,
      sessionsPerSecond: Math.round(med),
      eventsPerSecond: Math.round(med * c.size),
      spread: [Math.round(Math.min(...c.sessionsPerSecond)), Math.round(Math.max(...c.sessionsPerSecond))],
      runs: c.sessionsPerSecond.map(Math.round),
    };
  });
  const treeColumn = trees.length > 1 ? ' tree |' : '';
  console.log(`|${treeColumn} setup | workers | session size | sessions/s (median) | events/s (median) | sessions/s min..max |`);
  console.log(`|${trees.length > 1 ? '---|' : ''}---|---|---|---|---|---|`);
  for (const r of rows)
    console.log(
      `|${trees.length > 1 ? ` ${r.tree} |` : ''} ${r.setup} | ${r.workers} | ${r.sessionSize} | ${r.sessionsPerSecond} | ${r.eventsPerSecond} | ${r.spread[0]}..${r.spread[1]} |`,
    );

  if (trees.length > 1) printBeforeAfter(configs);
  const has = (setup: string) => setups.some((s) => s.name.startsWith(setup));
  const config = (setup: string, workers: number, size: number, tree = trees[0]) =>
    configs.find((c) => c.tree === tree && c.setup.startsWith(setup) && c.workers === workers && c.size === size)!.sessionsPerSecond;
  // Each ratio two ways: of the medians, and the median of the ratios within each repetition (the
  // two configurations ran seconds apart there, so a phase in which this VM is slower or faster
  // cancels out).
  const ratio = (setup: string, workers: [number, number], size: number) => {
    const [top, bottom] = [config(setup, workers[0], size), config(setup, workers[1], size)];
    const runs = top.map((x, i) => x / (bottom[i] as number));
    return { ofMedians: median(top) / median(bottom), paired: median(runs), pairedSpread: [Math.min(...runs), Math.max(...runs)], runs };
  };
  const ratios: Record<string, ReturnType<typeof ratio>> = {};
  if (has('(d)')) {
    ratios['d: workers 1 / workers 0, size 100'] = ratio('(d)', [1, 0], 100);
    ratios['d: workers 1 / workers 0, size 1'] = ratio('(d)', [1, 0], 1);
  }
  if (has('(b)')) {
    ratios['b: workers 1 / workers 0, size 100'] = ratio('(b)', [1, 0], 100);
    ratios['b: workers 1 / workers 0, size 1'] = ratio('(b)', [1, 0], 1);
  }
  if (has('(e)')) ratios['e: workers 2 / workers 1, size 100'] = ratio('(e)', [2, 1], 100);
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

  // The targets, each repetition's engine ratio against that repetition's ceiling.
  const ofCeiling = (runs: number[], ceilingRuns: number[]) => runs.map((x, i) => x / (ceilingRuns[i] as number));
  const targets: { name: string; target: number; runs: number[] }[] = [];
  const d = ratios['d: workers 1 / workers 0, size 100'];
  const e = ratios['e: workers 2 / workers 1, size 100'];
  const b = ratios['b: workers 1 / workers 0, size 100'];
  if (d) targets.push({ name: 'd: workers 1 / workers 0, size 100, of its ceiling', target: 0.95, runs: ofCeiling(d.runs, ceiling['d: two bare threads / main thread']) });
  if (e) targets.push({ name: 'e: workers 2 / workers 1, size 100, of its ceiling', target: 0.9, runs: ofCeiling(e.runs, ceiling['e: two bare threads / one bare thread']) });
  if (b) targets.push({ name: 'b: workers 1 / workers 0, size 100', target: 0.5, runs: b.runs });
  console.log('\ntargets: median of the per-repetition figures (min..max)');
  for (const t of targets) {
    const met = median(t.runs) >= t.target ? 'met' : 'NOT met';
    console.log(`  ${t.name}: ${median(t.runs).toFixed(2)} (${Math.min(...t.runs).toFixed(2)}..${Math.max(...t.runs).toFixed(2)}), target >= ${t.target}: ${met}`);
  }
  if (has('(b)')) {
    // Per-session cost of a worker round trip, derived from (b): where the time over workers: 0 goes.
    const overheadUs = (1e6 / median(config('(b)', 1, 100)) - 1e6 / median(config('(b)', 0, 100))).toFixed(0);
    console.log(`  b, size 100: a worker module adds ${overheadUs} µs per session over the main thread`);
  }

  const breakdown = await measureBreakdown();
  console.log('\nwhere a worker round of 100 events spends its time (µs, median of 2000):');
  for (const [name, value] of Object.entries(breakdown)) console.log(`  ${name}: ${value.toFixed(1)}`);

  if (args.json) {
    mkdirSync(path.dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), reps, seconds, window: WINDOW, iterations, rows, ratios, ceilings, targets, breakdown }, null, 1));
    console.log(`\nwrote ${args.json}`);
  }
}

/** The same configurations with the trees in the other order (this tree, before -> before, this tree). */
function reorderPairs(configs: Config[]): Config[] {
  const out: Config[] = [];
  for (let i = 0; i < configs.length; i += trees.length) out.push(...configs.slice(i, i + trees.length).reverse());
  return out;
}

/** This tree against the earlier one, configuration by configuration, paired within each repetition. */
function printBeforeAfter(configs: Config[]): void {
  console.log('\nbefore/after: sessions/s of each tree (median), and this tree / before within each repetition: median (min..max)');
  console.log('| setup | workers | session size | before | after | after / before |');
  console.log('|---|---|---|---|---|---|');
  for (let i = 0; i < configs.length; i += trees.length) {
    const [after, before] = configs.slice(i, i + 2) as [Config, Config];
    const runs = after.sessionsPerSecond.map((x, k) => x / (before.sessionsPerSecond[k] as number));
    console.log(
      `| ${after.setup} | ${after.workers} | ${after.size} | ${Math.round(median(before.sessionsPerSecond))} | ${Math.round(median(after.sessionsPerSecond))} | ${median(runs).toFixed(2)} (${Math.min(...runs).toFixed(2)}..${Math.max(...runs).toFixed(2)}) |`,
    );
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
