#!/usr/bin/env node
// The `hat-event-ts` command: runs the compiled CLI from dist/ when the package is built, else
// the TypeScript sources through tsx (Node 20 cannot run .ts by itself).
// HAT_EVENT_TS_FROM_SOURCE=1 runs the sources even when dist/ exists (the tests do, so a stale
// build never hides a change).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let cli;
if (existsSync(compiled) && process.env.HAT_EVENT_TS_FROM_SOURCE !== '1') {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
const code = await cli.main(process.argv.slice(2));
process.exit(code);
