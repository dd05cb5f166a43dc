// The `hat-event-ts` command picks what to run: dist/ when it is current, else the sources
// through tsx, so `npm start` never runs a stale build. Run on a copy of bin/ in a folder with a
// small src/ and dist/ whose entries say which one ran.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BIN, ROOT, cleanup, tempDir } from './helpers.ts';

afterEach(cleanup);

const MAIN_TS = "export async function main(argv: string[]): Promise<number> { console.log('sources', argv.join(' ')); return 0; }\n";
const MAIN_JS = "export async function main(argv) { console.log('dist', argv.join(' ')); return 0; }\n";

/** A package root with bin/, src/ and workers/ sources and their dist/ build, the build newer. */
async function checkout(): Promise<string> {
  const root = await tempDir();
  const files: Record<string, string> = {
    'package.json': '{"type": "module"}\n',
    'src/cli/main.ts': MAIN_TS,
    'src/common/x.ts': 'export const x = 1;\n',
    'src/config/schema.json': '{}\n',
    'workers/entry.ts': 'export {};\n',
    'dist/src/cli/main.js': MAIN_JS,
    'dist/src/common/x.js': 'export const x = 1;\n',
    'dist/src/config/schema.json': '{}\n',
    'dist/workers/entry.js': 'export {};\n',
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  await mkdir(path.join(root, 'bin'));
  await copyFile(BIN, path.join(root, 'bin', 'hat-event-ts.mjs'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules')); // tsx for the sources
  for (const file of Object.keys(files)) await setTime(root, file, file.startsWith('dist/') ? 2000 : 1000);
  return root;
}

const setTime = (root: string, file: string, seconds: number): Promise<void> => utimes(path.join(root, file), seconds, seconds);

function run(root: string, env: Record<string, string> = {}): string {
  const { HAT_EVENT_TS_FROM_SOURCE: _, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'hat-event-ts.mjs'), 'a', 'b'], {
    encoding: 'utf8', env: { ...inherited, ...env },
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.trim();
}

describe('hat-event-ts picks dist/ or the sources', () => {
  it('runs dist/ when every source is older than its compiled file', async () => {
    expect(run(await checkout())).toBe('dist a b');
  });

  it('runs the sources when one is newer than its compiled file (or a .json than its copy), in src/ or workers/', async () => {
    for (const file of ['src/common/x.ts', 'src/config/schema.json', 'workers/entry.ts']) {
      const root = await checkout();
      await setTime(root, file, 3000);
      expect(run(root)).toBe('sources a b');
    }
  });

  it('runs the sources when one has no compiled file, or dist/ is missing', async () => {
    const root = await checkout();
    await writeFile(path.join(root, 'src', 'common', 'y.ts'), 'export const y = 2;\n');
    await setTime(root, 'src/common/y.ts', 1000);
    expect(run(root)).toBe('sources a b');
    await rm(path.join(root, 'dist'), { recursive: true });
    expect(run(root)).toBe('sources a b');
  });

  it('an installed package (no src/, no workers/ sources) runs dist/ whatever its times', async () => {
    const root = await checkout();
    await rm(path.join(root, 'src'), { recursive: true });
    await rm(path.join(root, 'workers'), { recursive: true });
    await setTime(root, 'dist/src/cli/main.js', 0);
    expect(run(root)).toBe('dist a b');
  });

  it('HAT_EVENT_TS_FROM_SOURCE=1 runs the sources even with a current build', async () => {
    expect(run(await checkout(), { HAT_EVENT_TS_FROM_SOURCE: '1' })).toBe('sources a b');
  });
});
