#!/usr/bin/env node
// The `hat-event-ts` command. An installed package has only dist/ and runs it. A checkout of the
// repository has src/ too, and runs the TypeScript sources through tsx whenever dist/ is missing
// or older than any source (a .ts file newer than its compiled .js, or one without any), so
// `npm start` never runs a stale build; after `npm run build` it runs dist/ again.
// HAT_EVENT_TS_FROM_SOURCE=1 runs the sources in any case (the tests do).
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** Paths of the .ts files under a folder, relative to it. */
function* typeScriptFiles(folder, prefix = '') {
  for (const entry of readdirSync(new URL(prefix, folder), { withFileTypes: true })) {
    if (entry.isDirectory()) yield* typeScriptFiles(folder, `${prefix}${entry.name}/`);
    else if (entry.name.endsWith('.ts')) yield `${prefix}${entry.name}`;
  }
}

/** Whether dist/ has a compiled file at least as new as every .ts file under src/ and workers/. */
function buildIsCurrent() {
  if (!existsSync(new URL('dist/src/cli/main.js', root))) return false;
  for (const folder of ['src/', 'workers/']) {
    const sources = new URL(folder, root);
    if (!existsSync(sources)) continue; // an installed package ships no sources
    for (const file of typeScriptFiles(sources)) {
      const compiled = new URL(`dist/${folder}${file.slice(0, -3)}.js`, root);
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
