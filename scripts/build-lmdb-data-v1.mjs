#!/usr/bin/env node
// Builds lmdb-js's native addon from the sources it ships, against LMDB 0.9.29 with data
// format v1 (`LMDB_DATA_V1=true`), the format of the LMDB 0.9 that Hat 0.8's Python `lmdb`
// uses. The prebuilt binary of the `@lmdb/lmdb-<platform>` package writes format v2, which
// LMDB 0.9 cannot open. lmdb's loader (node-gyp-build-optional-packages) prefers
// `node_modules/lmdb/build/Release/*.node` over the platform package, so building there is
// enough. Run by the package's postinstall (npm ci / npm install); idempotent: a build whose
// marker matches the installed lmdb version and this Node's ABI is kept.
//
// Installed as a dependency of another project, it rebuilds the lmdb copy this package resolves
// (shared with the project when their versions agree). There a failed build (no compiler) warns
// but does not fail the project's install: clients and the memory backend need no native build,
// and the LMDB backend refuses to open a database until this script succeeds (data-format.ts),
// so no file Hat cannot read is ever written. In this repository a failed build fails.
//
// Usage: node scripts/build-lmdb-data-v1.mjs [--force]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const lmdbDir = packageDirOf(require.resolve('lmdb'));
const lmdbVersion = JSON.parse(fs.readFileSync(path.join(lmdbDir, 'package.json'), 'utf8')).version;
const releaseDir = path.join(lmdbDir, 'build', 'Release');
const marker = path.join(lmdbDir, 'build', 'hat-event-data-v1.json');
// `quietNoLock`: the addon is built without lmdb-js's stderr line for environments opened with
// MDB_NOLOCK (the query reader threads open the file so, on purpose: docs/queries.md); that raw
// line landed in the middle of the server's JSON-lines log once per reader thread.
const wanted = { lmdb: lmdbVersion, abi: process.versions.modules, platform: process.platform, arch: process.arch, quietNoLock: true };

/** lmdb's exports hide its package.json: walk up from its entry file instead. */
function packageDirOf(file) {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'lmdb') return dir;
  }
  throw new Error(`no lmdb package.json above ${file}`);
}

const asDependency = root.split(path.sep).includes('node_modules');

function fail(message) {
  console.error(`build-lmdb-data-v1: ${message}`);
  if (!asDependency) process.exit(1);
  console.error('build-lmdb-data-v1: the LMDB backend of hat-event-ts will refuse to open a database until this ' +
    `succeeds (needs python3, make and a C++ compiler): node ${path.join(root, 'scripts', 'build-lmdb-data-v1.mjs')}`);
  process.exit(0);
}

/** The LMDB version the addon that lmdb loads reports, read in a fresh process. */
function loadedLmdbVersion() {
  const probe = spawnSync(process.execPath, ['--input-type=module', '-e',
    "import('lmdb').then((m) => console.log(JSON.stringify(m.version)))"], { cwd: root, encoding: 'utf8' });
  if (probe.status !== 0) fail(`lmdb does not load:\n${probe.stderr}`);
  return JSON.parse(probe.stdout.trim().split('\n').pop());
}

/** LMDB 0.9.x releases (format v1) are numbered below 0.9.70; the format-v2 branch reports 0.9.90. */
function isDataV1(version) {
  return version.major === 0 && version.minor === 9 && version.patch < 70;
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((p) => p && fs.existsSync(p));
  if (found === undefined) fail(`node-gyp not found (looked at: ${candidates.filter(Boolean).join(', ')})`);
  return found;
}

/** Node's headers installed with Node itself (the machines build against them, nothing is downloaded). */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.join(path.dirname(process.execPath), '..'), '/usr'];
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'include', 'node', 'node_version.h')));
}

/** Drops lmdb-js's MDB_NOLOCK notice from its sources (idempotent; see `quietNoLock`). */
function quietNoLock() {
  const file = path.join(lmdbDir, 'src', 'env.cpp');
  if (!fs.existsSync(file)) return;
  const source = fs.readFileSync(file, 'utf8');
  const notice = /^\s*fprintf\(stderr, "You chose to use MDB_NOLOCK[^\n]*\n/m;
  if (notice.test(source)) fs.writeFileSync(file, source.replace(notice, '\t\t// (hat-event-ts: the MDB_NOLOCK notice is left out: build-lmdb-data-v1.mjs)\n'));
}

function build() {
  quietNoLock();
  const nodeGyp = findNodeGyp();
  const nodeDir = findNodeDir();
  const args = [nodeGyp, 'rebuild', '--release', '--jobs', 'max'];
  if (nodeDir !== undefined) args.push(`--nodedir=${nodeDir}`);
  console.log(`build-lmdb-data-v1: building lmdb ${lmdbVersion} with LMDB data format v1 (a minute or two)`);
  const result = spawnSync(process.execPath, args, {
    cwd: lmdbDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, LMDB_DATA_V1: 'true' },
  });
  if (result.status !== 0) fail(`node-gyp failed (exit ${result.status}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  fs.writeFileSync(marker, `${JSON.stringify(wanted)}\n`);
}

const force = process.argv.includes('--force');
let current = null;
try {
  current = JSON.parse(fs.readFileSync(marker, 'utf8'));
} catch {
  // no marker: not built yet
}
const upToDate = current !== null && Object.entries(wanted).every(([k, v]) => current[k] === v) &&
  fs.existsSync(releaseDir) && fs.readdirSync(releaseDir).some((f) => f.endsWith('.node'));
if (force || !upToDate) build();

const version = loadedLmdbVersion();
if (!isDataV1(version)) {
  fail(`lmdb loads ${version.versionString}, which writes LMDB data format v2 (not readable by Hat's LMDB 0.9)`);
}
console.log(`build-lmdb-data-v1: lmdb loads ${version.versionString} (data format v1)`);
