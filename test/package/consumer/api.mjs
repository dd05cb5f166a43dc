// The package root as a consumer imports it: where it resolves, its names, a deep import refused.
import * as api from 'hat-event-ts';

let deepImport;
try {
  await import('hat-event-ts/dist/src/index.js');
  deepImport = 'allowed';
} catch (error) {
  deepImport = error.code;
}
console.log(JSON.stringify({
  resolved: import.meta.resolve('hat-event-ts'),
  names: Object.keys(api).sort(),
  functions: Object.keys(api).filter((name) => typeof api[name] === 'function').sort(),
  deepImport,
}));
