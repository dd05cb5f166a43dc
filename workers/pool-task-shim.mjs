// Development entry for pooled threads: register tsx's hooks, then load the TypeScript task.
import { register } from 'tsx/esm/api';

register();
const task = await import('./pool-task.ts');
export default task.default;
