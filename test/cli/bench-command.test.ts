// `hat-event-ts bench` as a real process against a real server: tiny cells for about a second
// write the table, valid JSON and a well-formed SVG (or HTML), only events under ['bench', ...]
// reach the server; bad input, an unreachable server and an interruption write nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import type { BenchDocument } from '../../src/bench/report.ts';
import { cleanup, closedPort, lmdbConf, runCli, spawnCli, tempDir, writeConf, type CliProcess } from './helpers.ts';

const clients: EventerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await cleanup();
});

async function startServer(dir: string): Promise<{ server: CliProcess; address: string; client: EventerClient }> {
  const server = spawnCli(['server', '--conf', await writeConf(dir, lmdbConf({ flush_period: 0.2 }))], { cwd: dir });
  const client = await connectEventer(await server.address());
  clients.push(client);
  return { server, address: await server.address(), client };
}

/** Tags open and close in order: the SVG is well-formed XML as far as elements go. */
function assertBalanced(xml: string): void {
  const stack: string[] = [];
  for (const [, closing, name, selfClosing] of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `</${name}>`).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

describe('hat-event-ts bench', () => {
  it('tiny cells for about a second: the table, valid JSON, a chart, events only under bench/', { timeout: 90_000 }, async () => {
    const dir = await tempDir();
    const { server, address, client } = await startServer(dir);
    const run = await runCli(['bench', '--address', address, '--batch', '1,5', '--connections', '1,3', '--duration', '0.1',
      '--warm-up', '0.05', '--threads', '2', '--payload', '100', '--server-pid', String(server.child.pid), '--json', 'out.json',
      '--chart', 'out.svg'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const [description, blank, header, rule, ...rows] = run.stdout.trimEnd().split('\n');
    expect(description!.startsWith(`hat-event-ts bench against ${address}: 0.1 s per cell after 0.05 s of warm-up, 1 run per cell, payload 100 bytes, 2 load threads, `)).toBe(true);
    expect([blank, header, rule]).toEqual(['',
      '| mode | batch | connections | events/s | requests/s | p50 ms | p99 ms | p999 ms | max ms | client CPU % | server CPU % | server RSS MiB |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|']);
    const cells = rows.filter((row) => row.startsWith('|')).map((row) => row.slice(2, -2).split(' | '));
    expect(cells.map((c) => c.slice(0, 3).join(' '))).toEqual([
      'pipelined 1 1', 'pipelined 1 3', 'pipelined 5 1', 'pipelined 5 3', 'waited 1 1', 'waited 1 3', 'waited 5 1', 'waited 5 3']);
    for (const c of cells) {
      const numbers = c.slice(3).map((v) => Number(v.replace(/[, *]/g, '')));
      expect(numbers[0], c.join(' ')).toBeGreaterThan(0); // events/s
      expect(numbers.slice(7).every((v) => v >= 0), c.join(' ')).toBe(true); // client and server CPU, RSS
      if (c[0] === 'pipelined') expect(c.slice(5, 9)).toEqual(['-', '-', '-', '-']);
      else expect(numbers.slice(2, 6).every((v) => v > 0), c.join(' ')).toBe(true);
    }

    const doc = JSON.parse(await readFile(path.join(dir, 'out.json'), 'utf8')) as BenchDocument;
    expect(doc).toMatchObject({
      tool: 'hat-event-ts bench',
      options: { address, modes: ['pipelined', 'waited'], batches: [1, 5], connections: [1, 3], durationSeconds: 0.1, warmUpSeconds: 0.05,
        payloadBytes: 100, repeat: 1, threads: 2, serverPid: server.child.pid },
      machine: { cpus: expect.any(Number), node: process.version },
    });
    expect(doc.cells).toHaveLength(8);
    for (const cell of doc.cells) {
      expect(cell.runs).toHaveLength(1);
      const [r] = cell.runs;
      expect(r!.events).toBe(r!.requests * cell.batch);
      expect(r!.eventsPerSec).toBeCloseTo(r!.events / r!.seconds, 6);
      expect(r!.seconds).toBeGreaterThanOrEqual(0.1);
      expect(r!.serverRssMiB).toBeGreaterThan(10);
      expect(r!.threads).toBe(Math.min(2, cell.connections));
      if (cell.mode === 'pipelined') expect(r!.latencyMs).toBeNull();
      else {
        const l = r!.latencyMs!;
        expect(l.requests).toBe(r!.requests);
        expect([l.p50 <= l.p99, l.p99 <= l.p999, l.p999 <= l.max, l.p50 > 0]).toEqual([true, true, true, true]);
      }
    }

    const svg = await readFile(path.join(dir, 'out.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    expect(svg.endsWith('</svg>\n')).toBe(true);
    assertBalanced(svg);
    expect(svg.match(/<title>[^<]* events\/s<\/title>/g)).toHaveLength(8); // a throughput bar per cell
    expect(svg.match(/<title>waited [^<]* (p50|p99|p99\.9|max): [\d.,]+ ms<\/title>/g)).toHaveLength(16); // 4 waited cells × 4 percentiles
    expect(svg).not.toMatch(/<script|href=|NaN|Infinity/);

    // What the server holds: the load under bench/load/<connection>/<n>, besides its own event/*.
    const types = (await client.query({ uniqueType: true })).map((e) => e.type);
    const benchTypes = types.filter((t) => t[0] === 'bench');
    expect(types.filter((t) => t[0] !== 'bench' && t[0] !== 'event')).toEqual([]);
    expect(benchTypes.every((t) => t.length === 4 && t[1] === 'load' && Number(t[2]) < 3 && Number(t[3]) < 10)).toBe(true);
    expect(benchTypes.length).toBeGreaterThan(3);
  });

  it('--repeat shows the spread; --chart FILE.html holds the chart and the table', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const { address } = await startServer(dir);
    const run = await runCli(['bench', '-a', address, '--mode', 'waited', '--batch', '2', '--connections', '2', '--duration', '0.1',
      '--warm-up', '0', '--repeat', '3', '--json', 'out.json', '--chart', 'out.html'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\n\| waited \| 2 \| 2 \| [\d,]+ \([\d,]+–[\d,]+\) \|/);
    expect(run.stdout).toContain('events/s: the median run (the slowest–the fastest run).');
    const doc = JSON.parse(await readFile(path.join(dir, 'out.json'), 'utf8')) as BenchDocument;
    expect(doc.cells.map((c) => c.runs.length)).toEqual([3]);
    const html = await readFile(path.join(dir, 'out.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<svg xmlns=');
    expect(html).toMatch(/<table><tr><th>mode<\/th>.*<\/tr>\n<tr><td>waited<\/td><td>2<\/td><td>2<\/td>/);
    assertBalanced(html.replace(/^<!DOCTYPE html>\n/, '').replace(/<meta [^>]*>/, ''));
  });
});

describe('hat-event-ts bench: bad input writes nothing', () => {
  it('an unreachable server, an unreadable pid, an unwritable folder, bad options', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const port = await closedPort();
    const { address } = await startServer(dir);
    const outputs = ['--json', 'out.json', '--chart', 'out.svg'];
    const runs: [string[], number, string][] = [
      [['-a', `tcp+sbs://127.0.0.1:${port}`, ...outputs], 1, `error: cannot connect to tcp+sbs://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`],
      [['-a', address, '--server-pid', '999999999', ...outputs], 1, 'error: cannot read /proc/999999999: no such process (or not Linux)'],
      [['-a', address, '--json', 'missing/out.json'], 1, `error: cannot write missing/out.json: the folder ${path.join(dir, 'missing')} is missing or not writable`],
      [['-a', address, '--chart', 'out.png'], 2, '--chart: the file name ends in .svg or .html'],
      [['-a', 'tcp://127.0.0.1:1', ...outputs], 2, '--address: invalid chatter address "tcp://127.0.0.1:1": scheme must be tcp+sbs or ssl+sbs'],
      [['--json', 'out.json'], 2, 'bench needs --address tcp+sbs://HOST:PORT (try hat-event-ts bench --help)'],
      [['-a', address, '--mode', 'fast'], 2, '--mode: pipelined or waited, not \'fast\''],
      [['-a', address, '--batch', '1,0'], 2, '--batch: expected an integer of at least 1, got "0"'],
      [['-a', address, '--duration', '0'], 2, '--duration: expected a number above 0, got "0"'],
      [['-a', address, 'now'], 2, 'bench takes no argument \'now\' (try hat-event-ts bench --help)'],
    ];
    const results = await Promise.all(runs.map(([args]) => runCli(['bench', ...args], { cwd: dir })));
    runs.forEach(([args, code, message], i) => {
      expect(results[i], args.join(' ')).toEqual({ code, stdout: '', stderr: `hat-event-ts: ${message}\n` });
    });
    expect((await readdir(dir)).filter((f) => f.startsWith('out'))).toEqual([]);
  });

  it('SIGINT during the run: exit 1, one line, no files', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const { address, client } = await startServer(dir);
    const bench = spawnCli(['bench', '-a', address, '--mode', 'waited', '--batch', '1', '--connections', '1', '--duration', '30',
      '--json', 'out.json', '--chart', 'out.svg'], { cwd: dir });
    while ((await client.query({ types: [['bench', '*']], maxResults: 1 })).length === 0) {
      expect(bench.child.exitCode).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    bench.child.kill('SIGINT');
    expect((await bench.exited).code).toBe(1);
    expect(bench.stderr()).toBe('hat-event-ts: error: benchmark interrupted, nothing written\n');
    expect(bench.stdout()).toBe('');
    expect(existsSync(path.join(dir, 'out.json')) || existsSync(path.join(dir, 'out.svg'))).toBe(false);
  });
});
