// The README's "Embedding" section as a consumer's program: a whole server from a configuration
// object, then an engine over an LMDB backend without any network.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectEventer, createEngine, createLmdbBackend, runServer } from 'hat-event-ts';

const here = path.dirname(fileURLToPath(import.meta.url));

const server = await runServer({
  log: { version: 1, root: { level: 'WARNING' } },
  backend: { module: 'memory' },
  engine: { server_id: 1, modules: [{ module: './modules/tagger.ts', tag: 'server' }] },
  eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
}, { baseDir: here });
const client = await connectEventer(server.addresses.eventer[0]!);
await client.registerWithResponse([{ type: ['measurement', 'a'], sourceTimestamp: null, payload: null }]);
const fromServer = await client.query({ types: [['tagged', '*']] });
await client.close();
await server.close();

const backend = await createLmdbBackend({
  db_path: path.join(here, 'embedded.db'),
  max_db_size: 64 * 1024 * 1024,
  flush_period: 1,
  conditions: [],
  latest: { subscriptions: [['*']] },
  ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
});
const engine = await createEngine({ server_id: 2, modules: [{ module: './modules/tagger.ts', tag: 'engine' }] }, backend, { baseDir: here });
await engine.register({ type: 'eventer', id: 1 }, [{ type: ['measurement', 'b'], sourceTimestamp: null, payload: null }]);
const fromEngine = await engine.query({ types: [['tagged', '*']] });
await engine.close();
await backend.close();

console.log(JSON.stringify({ server: fromServer.map((e) => e.type), engine: fromEngine.map((e) => e.type) }));
