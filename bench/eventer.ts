// Eventer throughput over real TCP on 127.0.0.1 (the bench command's harness, src/bench/), plus
// an SBS codec micro-benchmark.
//
//   npm run bench:eventer -- [--address tcp+sbs://host:port] [--server-pid PID]
//                            [--seconds 2] [--repeat 3] [--json out.json]
//
// Without --address it starts our server (memory backend, no modules) in a child process, afresh
// for every run of every cell, so its RSS is measured apart from the load generator and no cell
// measures the store grown by the earlier ones. Modes `waited` and `pipelined`, batches of
// 1, 10, 100 events, one connection.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEventerServer } from '../src/eventer/server.ts';
import { createEngine } from '../src/engine/index.ts';
import { createMemoryBackend } from '../src/backends/memory.ts';
import { SbsReader } from '../src/sbs/reader.ts';
import { SbsWriter } from '../src/sbs/writer.ts';
import { readEvents, writeEvents } from '../src/sbs/event-codec.ts';
import { readMsgRegisterReq, writeMsgRegisterReq } from '../src/sbs/eventer-messages.ts';
import type { Event } from '../src/common/types.ts';
import { runBench, type BenchOptions, type CellResult } from '../src/bench/harness.ts';
import { benchEvents, type BenchMode } from '../src/bench/load.ts';
import { markdownTable } from '../src/bench/report.ts';
import { fmt } from '../src/bench/stats.ts';

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

function codecBench(seconds: number): { encodePerSec: number; decodePerSec: number; notifyEncodePerSec: number; notifyDecodePerSec: number } {
  const reg = benchEvents(0, 100, 0, 64);
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
  const external = args.address;
  const cells: CellResult[] = [];
  for (const mode of ['waited', 'pipelined'] as BenchMode[]) {
    for (const batch of [1, 10, 100]) {
      const cell: CellResult = { mode, batch, connections: 1, runs: [] };
      for (let r = 0; r < repeat; r++) {
        const started = external === undefined ? await startChild() : null;
        const options: BenchOptions = {
          address: started?.address ?? external!, modes: [mode], batches: [batch], connections: [1],
          durationSeconds: seconds, warmUpSeconds: 0.5, payloadBytes: 64, repeat: 1, threads: 1,
          serverPid: started ? (started.child.pid ?? null) : args['server-pid'] ? Number(args['server-pid']) : null,
        };
        try {
          cell.runs.push(...(await runBench(options))[0]!.runs);
        } finally {
          if (started) await stopChild(started.child);
        }
      }
      cells.push(cell);
    }
  }
  const codec = codecBench(seconds);

  console.log(`eventer benchmark: server ${args.address ?? 'ours (memory backend, no modules, child process)'}, ${repeat} runs x ${seconds} s per cell`);
  console.log(markdownTable(cells));
  console.log('SBS codec (100-event messages, one thread)');
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
