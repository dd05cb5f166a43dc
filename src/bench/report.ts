// What the bench command writes: the Markdown table (stdout) and the JSON document (--json),
// both from the cells' runs; a cell's row is its median run by events/s.
import type { MachineInfo } from './process-stats.ts';
import { clientBound, type BenchOptions, type CellResult, type CellRun, type CellSpec } from './harness.ts';
import { fmt } from './stats.ts';

export interface CellSummary extends CellSpec {
  /** the run with the median events/s */
  median: CellRun;
  minEventsPerSec: number;
  maxEventsPerSec: number;
  repetitions: number;
}

export function summarize(cell: CellResult): CellSummary {
  const byRate = [...cell.runs].sort((a, b) => a.eventsPerSec - b.eventsPerSec);
  return {
    mode: cell.mode, batch: cell.batch, connections: cell.connections,
    median: byRate[(byRate.length - 1) >> 1]!,
    minEventsPerSec: byRate[0]!.eventsPerSec,
    maxEventsPerSec: byRate[byRate.length - 1]!.eventsPerSec,
    repetitions: byRate.length,
  };
}

export function markdownTable(cells: CellResult[]): string {
  const rows = cells.map(summarize);
  const lines = [
    '| mode | batch | connections | events/s | requests/s | p50 ms | p99 ms | p999 ms | max ms | client CPU % | server CPU % | server RSS MiB |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  let flagged = false;
  for (const row of rows) {
    const run = row.median;
    const spread = row.repetitions > 1 ? ` (${fmt(row.minEventsPerSec)}–${fmt(row.maxEventsPerSec)})` : '';
    const bound = clientBound(run);
    flagged ||= bound;
    const latency = run.latencyMs;
    lines.push(`| ${[
      row.mode, row.batch, row.connections, `${fmt(run.eventsPerSec)}${spread}`, fmt(run.requestsPerSec),
      ms(latency?.p50), ms(latency?.p99), ms(latency?.p999), ms(latency?.max),
      `${fmt(run.clientCpuPercent)}${bound ? ' *' : ''}`, fmt(run.serverCpuPercent ?? NaN), fmt(run.serverRssMiB ?? NaN),
    ].join(' | ')} |`);
  }
  if (rows.some((row) => row.repetitions > 1)) lines.push('', 'events/s: the median run (the slowest–the fastest run).');
  if (flagged) {
    lines.push('', '\\* the load generator used at least 90 % of the CPU of its threads: that figure may be the client\'s limit, ' +
      'not the server\'s (try more --threads, or run the load from another machine).');
  }
  return `${lines.join('\n')}\n`;
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : fmt(value, value < 10 ? 2 : 1);
}

export interface BenchDocument {
  tool: 'hat-event-ts bench';
  version: string;
  startedAt: string;
  finishedAt: string;
  options: BenchOptions;
  machine: MachineInfo;
  /** every cell with every repetition */
  cells: CellResult[];
}

export function benchJson(document: BenchDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
