// Node takes a .ts or .js file for CommonJS unless the nearest package.json says
// "type": "module"; a module written with import/export then fails with an error that does not
// say why (`Cannot require() ES Module ... in a cycle`). This finds that case so the load
// error can name the cause and the fix.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Why Node loads this module file as CommonJS, or null when it does not (or it is no file). */
export function commonJsReason(specifier: string): string | null {
  if (!specifier.startsWith('file:')) return null;
  const file = fileURLToPath(new URL(specifier));
  if (!/\.[jt]sx?$/.test(file)) return null; // .mts/.mjs are always ES modules, .cts/.cjs never
  for (let dir = path.dirname(file); ; ) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      let type: unknown;
      try {
        type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type;
      } catch {
        return null; // Node will report the broken package.json itself
      }
      return type === 'module' ? null : `${manifest} has no "type": "module"`;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'no package.json is above it';
    dir = parent;
  }
}

/** The load error's text, with the CommonJS cause and its fix in front when that applies. */
export function describeLoadError(specifier: string, message: string): string {
  const reason = commonJsReason(specifier);
  if (reason === null) return message;
  const firstLine = message.split('\n', 1)[0];
  return `it is loaded as CommonJS (${reason}): a module written with import/export needs ` +
    `"type": "module" in the package.json of its folder (create one with just that if there is none), ` +
    `or the extension .mts/.mjs (Node said: ${firstLine})`;
}
