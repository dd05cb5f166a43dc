// Where the worker entries are: the compiled `.js` files in production, a tsx shim in development.
const fromSources = import.meta.url.endsWith('.ts');

/** File URL of a worker entry given its name in `workers/` (without extension). */
export function workerEntry(name: string): URL {
  return new URL(fromSources ? `../../workers/${name}-shim.mjs` : `../../workers/${name}.js`, import.meta.url);
}
