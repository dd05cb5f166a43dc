// Running the real CLI (`node bin/hat-event-ts.mjs`, or any command that runs it) as a child
// process, with a temporary configuration and working directory, and reading its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'hat-event-ts.mjs');

export interface LogLine {
  level: string;
  logger: string;
  msg: string;
  [key: string]: unknown;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** parsed JSON lines of stderr */
  readonly logs: LogLine[];
  stdout(): string;
  stderr(): string;
  /** the exit code (null when killed by a signal) */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(pred: (line: LogLine) => boolean, ms?: number): Promise<LogLine>;
  /** the bound eventer address, from the 'eventer server listening' log line */
  address(): Promise<string>;
}

const running = new Set<ChildProcess>();
/** children that lead their own process group: killed with the whole group */
const groups = new WeakSet<ChildProcess>();
const tempDirs: string[] = [];

/**
 * `openFiles`: the process's limit on open files (`ulimit -n`, through a shell that execs node).
 * `input`: written to the command's stdin, which then ends (no input: stdin is closed).
 */
export function spawnCli(args: string[], opts: { cwd: string; openFiles?: number; input?: string }): CliProcess {
  const [command, argv] = opts.openFiles === undefined
    ? [process.execPath, [BIN, ...args]]
    : ['/bin/sh', ['-c', `ulimit -n ${opts.openFiles} && exec "$0" "$@"`, process.execPath, BIN, ...args]];
  // the sources, never a dist/ that an earlier build left
  return spawnCommand(command, argv, { cwd: opts.cwd, env: { ...process.env, HAT_EVENT_TS_FROM_SOURCE: '1' }, input: opts.input });
}

/**
 * Any command that runs the server. `npx hat-event-ts` runs it as a grandchild that a signal to
 * npx does not reach: spawn such a command as its own process group (`group: true`) and signal
 * the group, as a terminal's Ctrl-C does.
 */
export function spawnCommand(
  command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; group?: boolean; input?: string },
): CliProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env, detached: opts.group === true,
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  running.add(child);
  if (opts.group === true) groups.add(child);
  let out = '';
  let err = '';
  let partial = '';
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
    for (const wake of waiters) wake();
  });
  // 'close', not 'exit': it comes after stderr is drained, so the last log lines are in `logs`.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const waitForLog = (pred: (line: LogLine) => boolean, ms = 15000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = logs.find(pred);
        if (found) finish(() => resolve(found));
        else if (done) finish(() => reject(new Error(`process exited before the log line appeared; stderr:\n${err}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`log line not seen in ${ms} ms; stderr:\n${err}`))), ms);
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      waiters.add(check);
      check();
    });
  return {
    child, logs, exited, waitForLog,
    stdout: () => out,
    stderr: () => err,
    async address() {
      const line = await waitForLog((l) => l.msg === 'eventer server listening');
      return line['address'] as string;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end. */
export async function runCli(args: string[], opts: { cwd: string; input?: string }): Promise<CliResult> {
  const run = spawnCli(args, opts);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** stdout as JSON values, one per line. */
export function jsonLines(stdout: string): unknown[] {
  return stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
}

/** For afterEach: no child outlives its test, no temp folder stays behind. */
export async function cleanup(): Promise<void> {
  await Promise.all([...running].map((child) => new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    if (groups.has(child)) process.kill(-child.pid!, 'SIGKILL');
    else child.kill('SIGKILL');
  })));
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-cli-'));
  tempDirs.push(dir);
  return dir;
}

/** An LMDB server on a free port (port 0), its database under `dir/data/`. */
export function lmdbConf(overrides: { flush_period?: number; modules?: object[]; level?: string } = {}): Record<string, unknown> {
  return {
    type: 'event',
    log: { version: 1, level: overrides.level ?? 'INFO', format: 'json' },
    backend: {
      module: 'lmdb',
      db_path: './data/events.db',
      max_db_size: 64 * 1024 * 1024,
      flush_period: overrides.flush_period ?? 1,
      conditions: [],
      latest: { subscriptions: [['*']] },
      ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
    },
    engine: { server_id: 1, modules: overrides.modules ?? [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
  };
}

export async function writeConf(dir: string, conf: unknown, name = 'server.yaml'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, name.endsWith('.json') ? JSON.stringify(conf, null, 2) : stringify(conf));
  return file;
}

export const fixture = (name: string): string => path.join(ROOT, 'test', 'cli', 'fixtures', name);

/** A port on 127.0.0.1 that nothing listens on (bound once, then closed). */
export async function closedPort(): Promise<number> {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as net.AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  return port;
}
