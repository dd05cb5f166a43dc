import * as fs from 'node:fs';
import { openLmdbBackend } from '../src/backends/lmdb/backend.ts';
const dir = '/tmp/exp/q2'; fs.rmSync(dir, { recursive: true, force: true }); fs.mkdirSync(dir, { recursive: true });
const conf = { db_path: dir + '/events.db', max_db_size: 4 * 1024 ** 3, flush_period: 1, conditions: [], latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }] };
const b = await openLmdbBackend(conf as never, { cleanup: false });
for (let from = 0; from < 200_000; from += 1000) {
  await b.register(Array.from({ length: 1000 }, (_, k) => { const i = from + k; return { id: { server: 1, session: Math.floor(i / 1000) + 1, instance: i + 1 }, type: ['m', String(i % 100), 'v'], timestamp: { s: 1.7e9 + Math.floor(i / 1000), us: i % 1000 }, sourceTimestamp: null, payload: { type: 'json', data: { value: i, quality: 'good' } } }; }) as never);
}
await b.flush();
const q = { types: [['m', '*']] } as never;
const one = async () => { const r = await b.queryEncoded(q); if (r.count !== 200_000) throw new Error('count ' + r.count); };
for (let i = 0; i < 3; i++) await Promise.all([one(), one()]);
const ratios: number[] = [];
for (let i = 0; i < 8; i++) {
  let t = performance.now(); await one(); await one(); const seq = performance.now() - t;
  t = performance.now(); await Promise.all([one(), one()]); const par = performance.now() - t;
  ratios.push(par / seq); console.log(`seq ${seq.toFixed(0)} ms, at once ${par.toFixed(0)} ms, ratio ${(par / seq).toFixed(2)}`);
}
ratios.sort(); console.log('median', ratios[4]!.toFixed(2));
await b.close();
