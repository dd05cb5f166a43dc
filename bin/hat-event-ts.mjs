#!/usr/bin/env node
// The `hat-event-ts` command. An installed package has only dist/ and runs it. A checkout of the
// repository has src/ too, and runs the TypeScript sources through tsx whenever dist/ is missing
// or older than any source (a .ts file newer than its compiled .js, a .json file newer than the
// build's copy, or either without one), so `npm start` never runs a stale build; after
// `npm run build` it runs dist/ again.
// HAT_EVENT_TS_FROM_SOURCE=1 runs the sources in any case (the tests do).
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** Paths of the files the build compiles (.ts) or copies (.json) under a folder, relative to it. */
function* builtFiles(folder, prefix = '') {
  for (const entry of readdirSync(new URL(prefix, folder), { withFileTypes: true })) {
    if (entry.isDirectory()) yield* builtFiles(folder, `${prefix}${entry.name}/`);
    else if (/\.(ts|json)$/.test(entry.name)) yield `${prefix}${entry.name}`;
  }
}

/** Whether dist/ has an output at least as new as every built file under src/ and workers/. */
function buildIsCurrent() {
  if (!existsSync(new URL('dist/src/cli/main.js', root))) return false;
  for (const folder of ['src/', 'workers/']) {
    const sources = new URL(folder, root);
    if (!existsSync(sources)) continue; // an installed package ships no sources
    for (const file of builtFiles(sources)) {
      const compiled = new URL(`dist/${folder}${file.replace(/\.ts$/, '.js')}`, root);
      if (!existsSync(compiled) || statSync(new URL(file, sources)).mtimeMs > statSync(compiled).mtimeMs) return false;
    }
  }
  return true;
}

let cli;
if (process.env.HAT_EVENT_TS_FROM_SOURCE !== '1' && buildIsCurrent()) {
  cli = await import(new URL('dist/src/cli/main.js', root).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('src/cli/main.ts', root).href);
}
process.exit(await cli.main(process.argv.slice(2)));
