// `hat-event-ts bench --address ADDR`: loads a running eventer server (ours or Hat's) cell by
// cell and reports throughput, latency and CPU (src/bench/); a Markdown table on stdout, and
// on request the JSON of every run and a chart. Nothing is written before the run succeeded.
import { accessSync, constants, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAddress } from '../chatter/address.ts';
import { describeError } from '../common/describe-error.ts';
import { chartHtml, chartSvg } from '../bench/chart.ts';
import { cellsOf, runBench, type BenchOptions } from '../bench/harness.ts';
import { BENCH_MODES, type BenchMode } from '../bench/load.ts';
import { assertProcessReadable, machineInfo } from '../bench/process-stats.ts';
import { benchJson, markdownTable } from '../bench/report.ts';
import { fmt } from '../bench/stats.ts';
import { integerArg, integerListArg, numberArg, parseToolArgs, UsageError, type ToolArgs } from './args.ts';
import { connectTo } from './eventer.ts';
import { BENCH_HELP } from './help.ts';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.ts';
import { ProgressLine } from './progress.ts';
import { packageVersion } from './version.ts';

const OPTIONS = {
  address: { type: 'string', short: 'a' },
  mode: { type: 'string' },
  batch: { type: 'string' },
  connections: { type: 'string' },
  duration: { type: 'string' },
  'warm-up': { type: 'string' },
  payload: { type: 'string' },
  repeat: { type: 'string' },
  threads: { type: 'string' },
  'server-pid': { type: 'string' },
  json: { type: 'string' },
  chart: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runBenchCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseToolArgs('bench', args, OPTIONS);
  if (values.help) {
    io.stdout.write(BENCH_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`bench takes no argument '${positionals[0]}' (try hat-event-ts bench --help)`);
  if (values.address === undefined) {
    if (args.length > 0) throw new UsageError('bench needs --address tcp+sbs://HOST:PORT (try hat-event-ts bench --help)');
    io.stdout.write(BENCH_HELP);
    return EXIT_USAGE;
  }
  const options = benchOptions(values);
  const outputs = { json: values.json ?? null, chart: values.chart ?? null };
  if (outputs.chart !== null && !/\.(svg|html)$/i.test(outputs.chart)) throw new UsageError('--chart: the file name ends in .svg or .html');
  for (const file of [outputs.json, outputs.chart]) if (file !== null) assertWritable(file);
  if (options.serverPid !== null) assertProcessReadable(options.serverPid);
  await (await connectTo(options.address, io)).close(); // an unreachable server is one line, before any thread starts

  const started = new Date();
  const progress = new ProgressLine(io.stderr);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let cells;
  try {
    cells = await runBench(options, {
      signal: abort.signal,
      onProgress: (p) => progress.update(() => {
        const name = `${p.cell.mode} batch ${p.cell.batch} connections ${p.cell.connections}`;
        const run = options.repeat > 1 ? ` run ${p.repetition}/${options.repeat}` : '';
        const rate = p.phase === 'measuring' || p.phase === 'finishing' ? `  ${fmt(p.eventsPerSec)} events/s` : '';
        const of = p.phase === 'warm-up' ? options.warmUpSeconds : options.durationSeconds;
        const time = p.phase === 'connecting' ? '' : ` ${fmt(p.elapsedSeconds, 1)}/${of} s`;
        return `[${p.index + 1}/${p.cells}] ${name}${run}  ${p.phase}${time}${rate}`;
      }),
    });
  } finally {
    progress.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const description = `hat-event-ts bench against ${options.address}: ${options.durationSeconds} s per cell after ` +
    `${options.warmUpSeconds} s of warm-up, ${options.repeat} run${options.repeat > 1 ? 's' : ''} per cell, payload ` +
    `${options.payloadBytes} bytes, ${options.threads} load thread${options.threads > 1 ? 's' : ''}, ${started.toISOString()}`;
  const table = markdownTable(cells);
  io.stdout.write(`${description}\n\n${table}`);
  if (outputs.json !== null) {
    writeFileSync(outputs.json, benchJson({
      tool: 'hat-event-ts bench', version: packageVersion(), startedAt: started.toISOString(), finishedAt: new Date().toISOString(),
      options, machine: machineInfo(), cells,
    }));
  }
  if (outputs.chart !== null) {
    const title = `hat-event-ts bench: ${options.address}, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    writeFileSync(outputs.chart, outputs.chart.toLowerCase().endsWith('.html') ? chartHtml(cells, title, description, table) : chartSvg(cells, title));
  }
  return EXIT_OK;
}

function benchOptions(values: ToolArgs<typeof OPTIONS>['values']): BenchOptions {
  const address = values.address!;
  try {
    parseAddress(address);
  } catch (err) {
    throw new UsageError(`--address: ${describeError(err)}`);
  }
  const modes = (values.mode ?? BENCH_MODES.join(',')).split(',');
  for (const mode of modes) if (!BENCH_MODES.includes(mode as BenchMode)) throw new UsageError(`--mode: ${BENCH_MODES.join(' or ')}, not '${mode}'`);
  const pid = integerArg(values['server-pid'], 'server-pid', 1);
  const options: BenchOptions = {
    address,
    modes: [...new Set(modes as BenchMode[])],
    batches: integerListArg(values.batch, 'batch', [1, 10, 100]),
    connections: integerListArg(values.connections, 'connections', [1, 8, 64]),
    durationSeconds: numberArg(values.duration, 'duration', 3),
    warmUpSeconds: numberArg(values['warm-up'], 'warm-up', 1, 0, true),
    payloadBytes: integerArg(values.payload, 'payload') ?? 64,
    repeat: integerArg(values.repeat, 'repeat', 1) ?? 1,
    threads: integerArg(values.threads, 'threads', 1) ?? os.availableParallelism(),
    serverPid: pid,
  };
  if (cellsOf(options).length * options.repeat > 10_000) throw new UsageError('more than 10,000 cell runs: fewer --mode, --batch or --connections values');
  return options;
}

/** The file can be created or replaced (checked before the run, so a long run never ends in EACCES). */
function assertWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`cannot write ${file}: the folder ${dir} is missing or not writable`);
  }
}
