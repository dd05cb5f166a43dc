// Child process of durability.test.ts: registers 10-event sessions forever and prints a line
// for each session the backend reported durable, until the parent kills it with SIGKILL.
// argv: <db path> <'ack' | 'flushed'>: 'ack' uses flush_period 0 and reports when register
// resolves; 'flushed' uses flush_period 0.02 and reports from the flushed callback.
import { createLmdbBackend } from '../../../src/backends/lmdb/backend.ts';
import type { Event } from '../../../src/common/types.ts';

const [dbPath, mode] = process.argv.slice(2) as [string, 'ack' | 'flushed'];
const backend = await createLmdbBackend({
  db_path: dbPath,
  max_db_size: 1024 * 1024,
  flush_period: mode === 'ack' ? 0 : 0.02,
  conditions: [],
  latest: { subscriptions: [['*']] },
  ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
});
if (mode === 'flushed') {
  backend.onFlushed((events) => process.stdout.write(`durable ${events[0]!.id.session} ${events.length}\n`));
}
let instance = 0;
for (let session = 1; ; session++) {
  const events: Event[] = Array.from({ length: 10 }, (_, i) => ({
    id: { server: 1, session, instance: ++instance },
    type: ['child', String(i)],
    timestamp: { s: 1_700_000_000 + session, us: i },
    sourceTimestamp: null,
    payload: { type: 'binary', data: new Uint8Array(200).fill(session % 256) },
  }));
  await backend.register(events);
  if (mode === 'ack') process.stdout.write(`durable ${session} 10\n`);
  else await new Promise((resolve) => setTimeout(resolve, 1));
}
