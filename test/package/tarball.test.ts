// The package as a user gets it: `npm pack` (its prepack builds dist/), the tarball installed
// with its production dependencies into a folder outside the repository (test/package/consumer,
// copied), and used from there: the public API, a consumer's tsc on the .d.ts, `npx hat-event-ts
// server` loading a .ts and a .js module of that folder, the embedding example. Slow (npm
// install, which rebuilds lmdb-js there): `npm run test:package`, run by .ci/run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, cleanup, spawnCommand } from '../cli/helpers.ts';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The environment without what `npm run` sets for this repository (it must not leak into the consumer's npm). */
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env)
  .filter(([key]) => !/^(npm_(package|lifecycle)_|npm_config_local_prefix$|INIT_CWD$|HAT_EVENT_TS_)/.test(key)));

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

let work: string;
let tarball: string;
let consumer: string;
let packed: string[];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-package-'));
  const [info] = JSON.parse(ok(npm, ['pack', '--json', '--pack-destination', work], ROOT)) as [{ filename: string; files: { path: string }[] }];
  packed = info.files.map((f) => f.path).sort();
  tarball = path.join(work, info.filename);
  consumer = path.join(work, 'consumer');
  await cp(path.join(ROOT, 'test', 'package', 'consumer'), consumer, { recursive: true });
  // The consumer allows hat-event-ts's install script by name, as the README says; npm names a
  // tarball dependency by its file instead, so allow that too (npm 12 skips unapproved scripts).
  const manifest = JSON.parse(await readFile(path.join(consumer, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
  manifest.allowScripts[`file:${tarball}`] = true;
  await writeFile(path.join(consumer, 'package.json'), JSON.stringify(manifest, null, 2));
  // @types/node at the version this repository uses, so the consumer's tsc sees the same Node
  const typesNode = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version;
  ok(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@types/node@${typesNode}`], consumer);
});

afterAll(async () => {
  await cleanup(); // a server left by a failed test
  if (work) await rm(work, { recursive: true, force: true });
});

function* filesUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(file);
    else yield file;
  }
}

describe('the packed package, installed outside the repository', () => {
  it('holds the build (with the configuration schema), the command, the lmdb build script and the documents, nothing else', () => {
    const allowed = /^(dist\/(src|workers)\/.+\.(js|d\.ts|js\.map)|dist\/src\/config\/server\.schema\.json|bin\/hat-event-ts\.mjs|scripts\/build-lmdb-data-v1\.mjs|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/;
    expect(packed.filter((file) => !allowed.test(file))).toEqual([]);
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/workers/module-worker.js',
      'dist/src/config/server.schema.json', 'bin/hat-event-ts.mjs', 'scripts/build-lmdb-data-v1.mjs', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
      expect(packed).toContain(file);
    }
    // no path of the machine that built it (source maps carry their sources, relative paths only)
    const installed = path.join(consumer, 'node_modules', 'hat-event-ts');
    for (const file of filesUnder(installed)) expect(readFileSync(file, 'utf8')).not.toContain(ROOT);
  });

  it('its install rebuilt the lmdb it uses with LMDB data format v1 (Hat\'s)', () => {
    const version = ok(process.execPath, ['--input-type=module', '-e', "import('lmdb').then((m) => console.log(m.version.versionString))"], consumer);
    const patch = /^LMDB 0\.9\.(\d+)/.exec(version)?.[1];
    expect(Number(patch)).toBeLessThan(70); // 0.9.x releases; the format-v2 branch is 0.9.90
  });

  it('installed with install scripts off (lmdb-js keeps its format-v2 binary), the LMDB backend refuses to open and says how to build', async () => {
    const bare = path.join(work, 'without-scripts');
    await mkdir(bare);
    await writeFile(path.join(bare, 'package.json'), '{"type": "module"}\n');
    ok(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], bare);
    await copyFile(path.join(consumer, 'server.yaml'), path.join(bare, 'server.yaml'));
    await cp(path.join(consumer, 'modules'), path.join(bare, 'modules'), { recursive: true });
    const result = run(npx, ['--no', 'hat-event-ts', 'server', '--conf', 'server.yaml'], bare);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^hat-event-ts: error: cannot open the database .*: lmdb loads LMDB 0\.9\.9\d.*data format v2 .*`node scripts\/build-lmdb-data-v1\.mjs` in the hat-event-ts folder/m);
    expect(existsSync(path.join(bare, 'data', 'events.db'))).toBe(false);
  });

  it('the public API imports as hat-event-ts, and only from its root', () => {
    const api = JSON.parse(ok(process.execPath, ['api.mjs'], consumer)) as { resolved: string; names: string[]; functions: string[]; deepImport: string };
    expect(api.resolved).toBe(pathToFileURL(path.join(consumer, 'node_modules', 'hat-event-ts', 'dist', 'src', 'index.js')).href);
    expect(api.functions).toEqual(expect.arrayContaining([
      'matchesQueryType', 'compareEventIds', 'compareTimestamps', 'now', 'timestampToDate', 'timestampFromDate',
      'timestampToFloat', 'timestampFromFloat', 'timestampAdd', 'Subscription',
      'createMemoryBackend', 'createDummyBackend', 'createLmdbBackend', 'createEngine', 'connectEventer',
      'createEventerServer', 'runServer',
    ]));
    expect(api.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it("a consumer's tsc checks its module and program against the .d.ts; without skipLibCheck only lmdb's own .d.ts fails", () => {
    ok(process.execPath, [TSC, '-p', '.'], consumer);
    const strict = run(process.execPath, [TSC, '-p', '.', '--skipLibCheck', 'false'], consumer);
    const errors = strict.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors.filter((line) => !line.startsWith('node_modules/lmdb/'))).toEqual([]);
  });

  it('npx hat-event-ts server runs a .ts and a .js module of the folder; a client sees their output; Ctrl-C stops it cleanly', async () => {
    const server = spawnCommand(npx, ['--no', 'hat-event-ts', 'server', '--conf', 'server.yaml'], { cwd: consumer, env, group: true });
    const address = await server.address();
    const answer = JSON.parse(ok(process.execPath, ['register.mjs', address], consumer)) as {
      registered: string[]; notified: { type: string[]; data: unknown }[]; stored: string[][];
    };
    expect(answer.registered).toEqual(['measurement', 'room1']);
    expect(answer.notified).toEqual([
      { type: ['tagged', 'ts', 'room1'], data: { tag: 'ts', payload: 'json' } },
      { type: ['tagged', 'js', 'room1'], data: { tag: 'js', payload: 'json' } },
    ]);
    expect(answer.stored).toEqual([['tagged', 'ts', 'room1'], ['tagged', 'js', 'room1']]);
    process.kill(-server.child.pid!, 'SIGINT'); // Ctrl-C
    await server.exited; // npx's own status is npm's (it ends by the same signal); the server's is in its log
    expect(server.logs.find((l) => l.msg === 'signal received, stopping')?.['signal']).toBe('SIGINT');
    expect(server.logs.find((l) => l.msg === 'stopped')?.['clean']).toBe(true);
    expect(existsSync(path.join(consumer, 'data', 'events.db'))).toBe(true);
  });

  it('a module folder whose package.json lacks "type": "module" is refused with the fix', async () => {
    await copyFile(path.join(consumer, 'modules', 'tagger.ts'), path.join(consumer, 'plain', 'tagger.ts'));
    const result = run(npx, ['--no', 'hat-event-ts', 'server', '--conf', path.join('plain', 'server.yaml')], consumer);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`module 0 (./tagger.ts): cannot load module: it is loaded as CommonJS (${path.join(consumer, 'plain', 'package.json')} has no "type": "module")`);
  });

  it('a .js module in that folder runs (Node guesses its type), and Node\'s warning about it is a log line, not raw stderr', async () => {
    await copyFile(path.join(consumer, 'modules', 'tagger.js'), path.join(consumer, 'plain', 'tagger.js'));
    await writeFile(path.join(consumer, 'plain', 'js.yaml'),
      "backend: {module: memory}\nengine: {server_id: 1, modules: [{module: ./tagger.js, tag: js}]}\neventer_server: {address: 'tcp+sbs://127.0.0.1:0'}\n");
    const server = spawnCommand(npx, ['--no', 'hat-event-ts', 'server', '--conf', path.join('plain', 'js.yaml')], { cwd: consumer, env, group: true });
    await server.address();
    const typeless = (l: { msg: string; code?: unknown }): boolean => l.msg === 'node warning' && l.code === 'MODULE_TYPELESS_PACKAGE_JSON';
    await server.waitForLog((l) => typeless(l) && l.logger === 'hat.event.engine'); // from the module's thread
    expect(server.logs.find((l) => typeless(l) && l.logger === 'hat.event.process')?.['text']).toContain('add "type": "module"');
    process.kill(-server.child.pid!, 'SIGINT');
    await server.exited;
    const lines = server.stderr().trim().split('\n');
    expect(lines.filter((line) => !line.startsWith('{'))).toEqual([]);
  });

  it("the README's embedding example runs: runServer, then createEngine over createLmdbBackend", () => {
    const output = ok(npx, ['--no', 'tsx', 'embed.ts'], consumer);
    expect(JSON.parse(output)).toEqual({ server: [['tagged', 'server', 'a']], engine: [['tagged', 'engine', 'b']] });
  });
});
