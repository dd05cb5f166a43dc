// The package's version (package.json beside the schemas/ folder, in a checkout or installed).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { schemasDir } from '../server/schema.ts';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(path.dirname(schemasDir()), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
