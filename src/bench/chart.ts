// The bench command's chart: one self-contained SVG (no scripts, no fonts, no external files)
// with the throughput of every cell (bars: the median run; whiskers: the slowest and fastest)
// and the latency percentiles of the waited cells on a log scale. The HTML form wraps the same
// SVG with the run's description and the table.
import { summarize, type CellSummary } from './report.ts';
import type { CellResult } from './harness.ts';
import { fmt } from './stats.ts';

const WIDTH = 1000;
const MARGIN = { left: 80, right: 20 };
const PANEL_HEIGHT = 260;
const LABEL_SPACE = 70;
const MODE_COLORS: Record<string, string> = { pipelined: '#3465a4', waited: '#f57900' };
const PERCENTILES = [
  { key: 'p50', label: 'p50', color: '#73d216' },
  { key: 'p99', label: 'p99', color: '#edd400' },
  { key: 'p999', label: 'p99.9', color: '#f57900' },
  { key: 'max', label: 'max', color: '#cc0000' },
] as const;

export function chartSvg(cells: CellResult[], title: string): string {
  const rows = cells.map(summarize);
  const waited = rows.filter((row) => row.median.latencyMs !== null);
  const top1 = 60;
  const top2 = top1 + PANEL_HEIGHT + LABEL_SPACE + 60;
  const height = (waited.length > 0 ? top2 + PANEL_HEIGHT + LABEL_SPACE : top1 + PANEL_HEIGHT + LABEL_SPACE) + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(WIDTH / 2, 24, title, { anchor: 'middle', size: 16, weight: 'bold' }),
    ...throughputPanel(rows, top1),
  ];
  if (waited.length > 0) parts.push(...latencyPanel(waited, top2));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function chartHtml(cells: CellResult[], title: string, description: string, table: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style>
</head><body>
<p>${escape(description)}</p>
${chartSvg(cells, title)}
${htmlTable(table)}
</body></html>
`;
}

function throughputPanel(rows: CellSummary[], top: number): string[] {
  const max = Math.max(...rows.map((row) => row.maxEventsPerSec), 1);
  const { ticks, top: axisTop } = niceTicks(max * 1.08); // room for the value above the highest bar
  const y = (v: number): number => top + PANEL_HEIGHT - (v / axisTop) * PANEL_HEIGHT;
  const out = [text(MARGIN.left, top - 14, 'Throughput: events/s (bar: median run; whiskers: slowest and fastest run)', { weight: 'bold' })];
  for (const tick of ticks) out.push(gridLine(y(tick)), text(MARGIN.left - 6, y(tick) + 4, short(tick), { anchor: 'end' }));
  const slot = (WIDTH - MARGIN.left - MARGIN.right) / rows.length;
  const barWidth = Math.max(Math.min(slot * 0.7, 60), 2);
  rows.forEach((row, i) => {
    const x = MARGIN.left + slot * i + (slot - barWidth) / 2;
    const value = row.median.eventsPerSec;
    out.push(`<rect x="${n(x)}" y="${n(y(value))}" width="${n(barWidth)}" height="${n(top + PANEL_HEIGHT - y(value))}" fill="${MODE_COLORS[row.mode] ?? '#555'}"><title>${escape(cellName(row))}: ${fmt(value)} events/s</title></rect>`);
    if (row.repetitions > 1) {
      const cx = x + barWidth / 2;
      out.push(`<path d="M${n(cx)} ${n(y(row.minEventsPerSec))}V${n(y(row.maxEventsPerSec))}M${n(cx - 4)} ${n(y(row.minEventsPerSec))}h8M${n(cx - 4)} ${n(y(row.maxEventsPerSec))}h8" stroke="#000" fill="none"/>`);
    }
    if (slot >= 28) out.push(text(x + barWidth / 2, y(value) - 4, short(value), { anchor: 'middle', size: 10 }));
    out.push(axisLabel(x + barWidth / 2, top + PANEL_HEIGHT, cellName(row)));
  });
  out.push(axisLine(top + PANEL_HEIGHT));
  const modes = [...new Set(rows.map((row) => row.mode))];
  out.push(...legend(modes.map((mode) => ({ label: mode, color: MODE_COLORS[mode] ?? '#555' })), top - 14));
  return out;
}

function latencyPanel(rows: CellSummary[], top: number): string[] {
  const values = rows.flatMap((row) => PERCENTILES.map((p) => row.median.latencyMs![p.key]));
  const low = Math.pow(10, Math.floor(Math.log10(Math.max(Math.min(...values), 0.001))));
  const high = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, low * 10))));
  const y = (v: number): number => top + PANEL_HEIGHT - ((Math.log10(Math.max(v, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * PANEL_HEIGHT;
  const out = [text(MARGIN.left, top - 14, 'Latency per request, waited mode: ms (log scale, median run)', { weight: 'bold' })];
  for (let tick = low; tick <= high * 1.0001; tick *= 10) out.push(gridLine(y(tick)), text(MARGIN.left - 6, y(tick) + 4, tick < 1 ? String(Number(tick.toPrecision(1))) : fmt(tick), { anchor: 'end' }));
  const slot = (WIDTH - MARGIN.left - MARGIN.right) / rows.length;
  const barWidth = Math.max(Math.min((slot * 0.8) / PERCENTILES.length, 16), 1);
  rows.forEach((row, i) => {
    const x0 = MARGIN.left + slot * i + (slot - barWidth * PERCENTILES.length) / 2;
    PERCENTILES.forEach((p, j) => {
      const value = row.median.latencyMs![p.key];
      out.push(`<rect x="${n(x0 + j * barWidth)}" y="${n(y(value))}" width="${n(barWidth)}" height="${n(top + PANEL_HEIGHT - y(value))}" fill="${p.color}"><title>${escape(cellName(row))} ${p.label}: ${fmt(value, 3)} ms</title></rect>`);
    });
    out.push(axisLabel(x0 + (barWidth * PERCENTILES.length) / 2, top + PANEL_HEIGHT, cellName(row)));
  });
  out.push(axisLine(top + PANEL_HEIGHT));
  out.push(...legend(PERCENTILES.map((p) => ({ label: p.label, color: p.color })), top - 14));
  return out;
}

function cellName(row: CellSummary): string {
  return `${row.mode} b${row.batch} c${row.connections}`;
}

/** Round steps (1, 2 or 5 × 10^k) from 0 to at least `max`. */
function niceTicks(max: number): { ticks: number[]; top: number } {
  const rough = max / 5;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(t);
  return { ticks, top };
}

function legend(items: { label: string; color: string }[], y: number): string[] {
  let x = WIDTH - MARGIN.right - items.reduce((sum, item) => sum + 22 + item.label.length * 7, 0);
  return items.flatMap((item) => {
    const out = [`<rect x="${n(x)}" y="${n(y - 10)}" width="12" height="12" fill="${item.color}"/>`, text(x + 16, y, item.label)];
    x += 22 + item.label.length * 7;
    return out;
  });
}

function gridLine(y: number): string {
  return `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${n(y)}" y2="${n(y)}" stroke="#e0e0e0"/>`;
}

function axisLine(y: number): string {
  return `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${n(y)}" y2="${n(y)}" stroke="#000"/>`;
}

function axisLabel(x: number, y: number, label: string): string {
  return `<text x="${n(x)}" y="${n(y + 12)}" text-anchor="end" font-size="10" transform="rotate(-35 ${n(x)} ${n(y + 12)})">${escape(label)}</text>`;
}

function text(x: number, y: number, content: string, o: { anchor?: string; size?: number; weight?: string } = {}): string {
  return `<text x="${n(x)}" y="${n(y)}"${o.anchor ? ` text-anchor="${o.anchor}"` : ''}${o.size ? ` font-size="${o.size}"` : ''}` +
    `${o.weight ? ` font-weight="${o.weight}"` : ''}>${escape(content)}</text>`;
}

/** 1.2M, 34.5k, 980 */
function short(v: number): string {
  if (v >= 1e6) return `${fmt(v / 1e6, v >= 1e7 ? 0 : 1)}M`;
  if (v >= 1e3) return `${fmt(v / 1e3, v >= 1e4 ? 0 : 1)}k`;
  return fmt(v, v < 10 && v !== 0 ? 1 : 0);
}

function n(v: number): string {
  return v.toFixed(1);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The Markdown table as an HTML table (its header row, then the data rows; notes as paragraphs). */
function htmlTable(markdown: string): string {
  const lines = markdown.trim().split('\n');
  const cells = (line: string): string[] => line.slice(1, -1).split('|').map((c) => escape(c.trim()));
  const rows = lines.filter((line) => line.startsWith('|') && !line.startsWith('|---'));
  const notes = lines.filter((line) => line !== '' && !line.startsWith('|'));
  const [head, ...body] = rows;
  return `<table><tr>${cells(head!).map((c) => `<th>${c}</th>`).join('')}</tr>\n${body.map((r) => `<tr>${cells(r).map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</table>\n` +
    notes.map((note) => `<p>${escape(note.replace(/^\\\*/, '*'))}</p>`).join('\n');
}
