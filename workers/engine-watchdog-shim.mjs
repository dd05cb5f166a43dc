// Development entry (sources run as TypeScript under tsx or vitest): tsx's loader hooks do not reach
// a worker's entry by themselves, so register them here, then load the real TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./engine-watchdog.ts');
