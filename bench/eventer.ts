// Eventer load generator over real TCP on 127.0.0.1, plus an SBS codec micro-benchmark.
//
//   npm run bench:eventer -- [--address tcp+sbs://host:port] [--server-pid PID]
//                            [--seconds 2] [--repeat 3] [--json out.json]
//
// Without --address it starts our server (memory backend, no modules) in a child process so
// its RSS is measured apart from the load generator. Modes: `wait` = register-and-wait (one
// request in flight), `pipelined` = 32 requests in flight; batches of 1, 10, 100 events.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectEventer, type EventerClient } from '../src/eventer/client.ts';
import { createEventerServer } from '../src/eventer/server.ts';
import { createEngine } from '../src/engine/index.ts';
import { createMemoryBackend } from '../src/backends/memory.ts';
import { SbsReader } from '../src/sbs/reader.ts';
import { SbsWriter } from '../src/sbs/writer.ts';
import { readEvents, writeEvents } from '../src/sbs/event-codec.ts';
import { readMsgRegisterReq, writeMsgRegisterReq } from '../src/sbs/eventer-messages.ts';
import type { Event, RegisterEvent } from '../src/common/types.ts';
import { fmt, percentile } from '../src/bench/stats.ts';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string' },
    'server-pid': { type: 'string' },
    seconds: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string' },
    serve: { type: 'string' },
  },
});

function registerEvents(n: number, seq: number): RegisterEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: ['bench', 'a', String((seq + i) % 10)],
    sourceTimestamp: { s: 1700000000, us: i },
    payload: { type: 'json', data: { value: seq + i, quality: 'good' } },
  }));
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}


const WARM_UP_SECONDS = 0.5;

interface Cell { mode: string; batch: number; eventsPerSec: number; requestsPerSec: number; p50: number; p99: number; max: number; rssMiB: number }

async function runCell(client: EventerClient, mode: 'wait' | 'pipelined', batch: number, seconds: number, pid: number | null): Promise<Cell> {
  const inFlight = mode === 'wait' ? 1 : 32;
  const latencies: number[] = [];
  let requests = 0;
  // Requests are built before the clock starts (16 distinct batches, reused in turn), so the load
  // generator spends its CPU on the protocol rather than on making test data.
  const prepared = Array.from({ length: 16 }, (_, k) => registerEvents(batch, k * batch));
  let next = 0;
  let end = performance.now() + WARM_UP_SECONDS * 1000;
  let measuring = false;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const events = prepared[next++ % prepared.length]!;
      const t0 = performance.now();
      await client.registerWithResponse(events);
      if (!measuring) continue;
      latencies.push(performance.now() - t0);
      requests++;
    }
  };
  // Warm-up first (the server is fresh and its code not yet optimised), then the measured run.
  await Promise.all(Array.from({ length: inFlight }, worker));
  measuring = true;
  end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    mode, batch,
    eventsPerSec: (requests * batch) / elapsed,
    requestsPerSec: requests / elapsed,
    p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN,
    rssMiB: pid === null ? NaN : rssOf(pid) / 2 ** 20,
  };
}

function codecBench(seconds: number): { encodePerSec: number; decodePerSec: number; notifyEncodePerSec: number; notifyDecodePerSec: number } {
  const reg = registerEvents(100, 0);
  const events: Event[] = reg.map((e, i) => ({ ...e, id: { server: 1, session: 5, instance: i + 1 }, timestamp: { s: 1700000000, us: i } }));
  const time = (f: () => void): number => {
    let n = 0;
    const end = performance.now() + seconds * 500;
    const start = performance.now();
    while (performance.now() < end) {
      for (let i = 0; i < 50; i++) f();
      n += 50;
    }
    return (n * 100) / ((performance.now() - start) / 1000);
  };
  const w1 = new SbsWriter(16384);
  writeMsgRegisterReq(w1, reg);
  const regBytes = w1.finish().slice();
  const w2 = new SbsWriter(16384);
  writeEvents(w2, events);
  const notifyBytes = w2.finish().slice();
  return {
    encodePerSec: time(() => writeMsgRegisterReq(new SbsWriter(8192), reg)),
    decodePerSec: time(() => readMsgRegisterReq(new SbsReader(regBytes))),
    notifyEncodePerSec: time(() => writeEvents(new SbsWriter(8192), events)),
    notifyDecodePerSec: time(() => readEvents(new SbsReader(notifyBytes))),
  };
}

async function startChild(): Promise<{ child: ChildProcess; address: string }> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--serve', 'tcp+sbs://127.0.0.1:0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, address };
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.end();
  await exited;
}


async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const repeat = Number(args.repeat);
  // Our server is started afresh for every run of every cell: its memory backend keeps every
  // event, and a store grown by the earlier cells would make later ones measure its GC instead.
  const external = args.address;
  const cells: Cell[][] = [];
  for (const mode of ['wait', 'pipelined'] as const) {
    for (const batch of [1, 10, 100]) {
      const runs: Cell[] = [];
      for (let r = 0; r < repeat; r++) {
        const started = external === undefined ? await startChild() : null;
        const pid = started ? (started.child.pid ?? null) : args['server-pid'] ? Number(args['server-pid']) : null;
        const client = await connectEventer(started?.address ?? (external as string));
        runs.push(await runCell(client, mode, batch, seconds, pid));
        await client.close();
        if (started) await stopChild(started.child);
      }
      cells.push(runs);
    }
  }
  const codec = codecBench(seconds);

  console.log(`eventer benchmark: server ${args.address ?? 'ours (memory backend, no modules, child process)'}, ${repeat} runs x ${seconds} s per cell`);
  console.log('| mode | batch | events/s median (min-max) | requests/s | p50 ms | p99 ms | max ms | server RSS MiB |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const runs of cells) {
    const by = [...runs].sort((a, b) => a.eventsPerSec - b.eventsPerSec);
    const med = by[Math.floor(by.length / 2)]!;
    console.log(`| ${med.mode} | ${med.batch} | ${fmt(med.eventsPerSec)} (${fmt(by[0]!.eventsPerSec)}-${fmt(by[by.length - 1]!.eventsPerSec)}) | ${fmt(med.requestsPerSec)} | ${fmt(med.p50, 2)} | ${fmt(med.p99, 2)} | ${fmt(med.max, 1)} | ${fmt(Math.max(...runs.map((c) => c.rssMiB)), 0)} |`);
  }
  console.log('\nSBS codec (100-event messages, one thread)');
  console.log('| operation | events/s |');
  console.log('|---|---|');
  console.log(`| encode MsgRegisterReq | ${fmt(codec.encodePerSec)} |`);
  console.log(`| decode MsgRegisterReq | ${fmt(codec.decodePerSec)} |`);
  console.log(`| encode MsgNotify | ${fmt(codec.notifyEncodePerSec)} |`);
  console.log(`| decode MsgNotify | ${fmt(codec.notifyDecodePerSec)} |`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ address: args.address ?? null, seconds, repeat, cells, codec }, null, 2));
}

if (args.serve !== undefined) {
  // Child mode: our server with the memory backend and no modules.
  const backend = await createMemoryBackend();
  const engine = await createEngine({ server_id: 1, modules: [] }, backend);
  const server = await createEventerServer(engine, args.serve);
  process.stdout.write(`READY ${server.addresses[0]}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => engine.close()).then(() => process.exit(0)));
} else {
  await main();
}
