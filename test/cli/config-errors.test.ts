// An invalid configuration: exit status 2, one stderr line per problem naming the file, the
// JSON path and what was expected, and nothing opened or written.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanup, fixture, lmdbConf, ROOT, spawnCli, tempDir, writeConf } from './helpers.ts';

afterEach(cleanup);

const exampleModule = path.join(ROOT, 'examples', 'modules', 'threshold-alarm.ts');

/** Runs the server on `file`; returns the problem lines after checking status and side effects. */
async function rejectedLines(dir: string, file: string): Promise<string[]> {
  const run = spawnCli(['server', '--conf', file], { cwd: dir });
  const { code } = await run.exited;
  expect(code).toBe(2);
  expect(existsSync(path.join(dir, 'data'))).toBe(false);
  const lines = run.stderr().trim().split('\n');
  for (const line of lines) expect(line.startsWith(`${file}: /`)).toBe(true);
  return lines.map((line) => line.slice(file.length + 2));
}

async function confWith(patch: (conf: Record<string, any>) => void, name?: string): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const conf = lmdbConf() as Record<string, any>;
  patch(conf);
  return { dir, file: await writeConf(dir, conf, name) };
}

describe('configuration errors (exit status 2)', () => {
  it('a missing file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'absent.yaml');
    expect(await rejectedLines(dir, file)).toEqual(['/: cannot read the configuration file (ENOENT)']);
  });

  it('an extension that is neither YAML nor JSON', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'server.toml');
    await writeFile(file, 'type = "event"\n');
    expect(await rejectedLines(dir, file)).toEqual(["/: expected a .yaml, .yml or .json file, got '.toml'"]);
  });

  it('YAML and JSON syntax errors, with where they are', async () => {
    const dir = await tempDir();
    const yamlFile = path.join(dir, 'server.yaml');
    await writeFile(yamlFile, 'backend:\n  module: lmdb\n   db_path: x\n');
    const yamlLines = await rejectedLines(dir, yamlFile);
    expect(yamlLines.length).toBeGreaterThan(0);
    for (const line of yamlLines) expect(line).toMatch(/^\/: expected valid YAML: .* at line \d+, column \d+/);
    const jsonFile = path.join(dir, 'server.json');
    await writeFile(jsonFile, '{"backend": {"module": "lmdb",}}');
    const [jsonLine] = await rejectedLines(dir, jsonFile);
    expect(jsonLine).toMatch(/^\/: expected valid JSON: /);
  });

  it('every schema violation at once, each with its JSON path', async () => {
    const { dir, file } = await confWith((c) => {
      c['engine'].server_id = 'one';
      c['eventer_server'].address = 'http://127.0.0.1:23012';
      c['eventer_sever'] = { address: 'tcp+sbs://127.0.0.1:1' };
    }, 'server.json');
    expect((await rejectedLines(dir, file)).sort()).toEqual([
      '/engine/server_id: expected integer',
      expect.stringMatching(/^\/eventer_server\/address: expected tcp\+sbs:\/\/host:port or ssl\+sbs:\/\/host:port/),
      '/eventer_sever: unknown key (did you mean eventer_server?)',
    ]);
  });

  it('an unknown backend is not found: the name as written, where it was looked for, a close built-in name', async () => {
    for (const [name, meant] of [['postgres', ''], ['lmbd', ': did you mean lmdb?']]) {
      const { dir, file } = await confWith((c) => (c['backend'].module = name));
      expect(await rejectedLines(dir, file)).toEqual([
        `/backend/module: backend '${name}' not found: not a built-in backend (lmdb, memory, dummy${meant}), ` +
        `no file ${path.join(dir, name)}, no package '${name}' in a node_modules folder of ${dir} or above it`,
      ]);
    }
  });

  it("the LMDB backend's own schema", async () => {
    const { dir, file } = await confWith((c) => {
      c['backend'].flush_period = -1;
      delete c['backend'].latest;
    });
    expect((await rejectedLines(dir, file)).sort()).toEqual([
      '/backend/flush_period: expected a number >= 0',
      "/backend: missing required property 'latest'",
    ]);
  });

  it('a misspelled key inside backend or log: the unknown key with the one it meant, beside the missing one', async () => {
    const { dir, file } = await confWith((c) => {
      c['backend'].max_db_sze = c['backend'].max_db_size;
      delete c['backend'].max_db_size;
      c['log'] = { version: 1, rooot: { level: 'INFO' } };
    });
    expect((await rejectedLines(dir, file)).sort()).toEqual([
      '/backend/max_db_sze: unknown key (did you mean max_db_size?)',
      "/backend: missing required property 'max_db_size'",
      '/log/rooot: unknown key (did you mean root?)',
    ]);
  });

  it('a module that is not there is not found: the name as written and where it was looked for', async () => {
    const { dir, file } = await confWith((c) => (c['engine'].modules = [{ module: './no-such-module.ts' }, { module: 'no-such-package/x' }]));
    expect(await rejectedLines(dir, file)).toEqual([
      `/engine/modules/0/module: module 0 (./no-such-module.ts): not found: no file ${path.join(dir, 'no-such-module.ts')}`,
      `/engine/modules/1/module: module 1 (no-such-package/x): not found: no file ${path.join(dir, 'no-such-package', 'x')}, ` +
      `no package 'no-such-package' in a node_modules folder of ${dir} or above it`,
    ]);
  });

  it('a module that fails to load says why', async () => {
    const { dir, file } = await confWith((c) => (c['engine'].modules = [{ module: './broken.mjs' }]));
    await writeFile(path.join(dir, 'broken.mjs'), "import { nothing } from 'no-such-dependency';\nexport const create = nothing;\n");
    expect(await rejectedLines(dir, file)).toEqual([
      "/engine/modules/0/module: expected a loadable module file or package: module 0 (./broken.mjs): cannot load module: " +
      `Cannot find package 'no-such-dependency' imported from ${path.join(dir, 'broken.mjs')}`,
    ]);
  });

  it('an ES module in a folder without "type": "module" says so and how to fix it; .mts loads there', async () => {
    const module = 'export function create() { return { subscription: [[\'a\']], process: () => [] }; }\n';
    for (const manifest of ['{}\n', null]) {
      const { dir, file } = await confWith((c) => (c['engine'].modules = [{ module: './m.ts' }, { module: './m.js' }]));
      if (manifest !== null) await writeFile(path.join(dir, 'package.json'), manifest);
      await writeFile(path.join(dir, 'm.ts'), module);
      await writeFile(path.join(dir, 'm.js'), 'await Promise.resolve();\n' + module);
      const why = manifest === null ? 'no package.json is above it' : `${path.join(dir, 'package.json')} has no "type": "module"`;
      const lines = await rejectedLines(dir, file);
      expect(lines).toEqual([0, 1].map((i) => expect.stringContaining(
        `/engine/modules/${i}/module: expected a loadable module file or package: module ${i} (./m.${i ? 'js' : 'ts'}): ` +
        `cannot load module: it is loaded as CommonJS (${why}): a module written with import/export needs "type": "module"`)));
      expect(lines[0]).toContain('or the extension .mts/.mjs');
    }
    const dir = await tempDir();
    await writeFile(path.join(dir, 'm.mts'), module);
    const run = spawnCli(['server', '--conf', await writeConf(dir, lmdbConf({ modules: [{ module: './m.mts' }] }))], { cwd: dir });
    expect(await run.address()).toMatch(/^tcp\+sbs:\/\/127\.0\.0\.1:\d+$/);
  });

  it("a module configuration that its confSchema rejects, and pooling a module that is not stateless", async () => {
    const { dir, file } = await confWith((c) => (c['engine'].modules = [
      { module: exampleModule, threshold: 'high', alarms: [] },
      { module: fixture('fails-on-boom.ts'), workers: 2 },
    ]));
    expect((await rejectedLines(dir, file)).sort()).toEqual([
      '/engine/modules/0/alarms: expected at least 1 item(s)',
      '/engine/modules/0/threshold: expected number',
      '/engine/modules/1/workers: expected 0 or 1: only modules exporting stateless = true can be pooled',
    ]);
  });
});
