// Durable mode (flush_period 0) with group commit, against real server processes: many clients
// register at once, each is answered only after the commit that holds its event, commits carry
// several clients' sessions, and across repeated SIGKILLs no acknowledged event is ever lost.
import { afterEach, describe, expect, it } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import type { Event } from '../../src/common/types.ts';
import { eventIdKey } from '../../src/common/event-id.ts';
import { jsonPayloadText } from '../../src/common/json-payload.ts';
import { cleanup, lmdbConf, spawnCli, tempDir, writeConf, type CliProcess } from './helpers.ts';

const clients: EventerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await cleanup();
});

const CLIENTS = 40;
const KILLS = 3;
const key = (e: Event): string => `${e.id.session}/${e.id.instance}`;

/** `CLIENTS` connections registering one event with response each, in a loop, until the kill. */
function registerUntilKilled(address: string, acknowledged: Event[]): Promise<void> {
  const loop = async (k: number): Promise<void> => {
    const client = await connectEventer(address);
    clients.push(client);
    for (let i = 0; ; i++) {
      const [event] = await client.registerWithResponse([{ type: ['load', String(k)], sourceTimestamp: null, payload: { type: 'json', data: i } }]);
      if (event) acknowledged.push(event);
    }
  };
  return Promise.all(Array.from({ length: CLIENTS }, (_, k) => loop(k).catch(() => undefined))).then(() => undefined);
}

describe('durable mode: group commit', () => {
  it(`loses no acknowledged event across ${KILLS} SIGKILLs, and commits several clients' sessions together`, async () => {
    const dir = await tempDir();
    const conf = lmdbConf({ flush_period: 0 });
    (conf['log'] as Record<string, unknown>)['loggers'] = { 'hat.event.backend': { level: 'DEBUG' } };
    const confFile = await writeConf(dir, conf);
    const acknowledged: Event[] = [];
    let grouped = 0;
    for (let run = 0; run < KILLS; run++) {
      const server: CliProcess = spawnCli(['server', '--conf', confFile], { cwd: dir });
      const address = await server.address();
      const before = acknowledged.length;
      const load = registerUntilKilled(address, acknowledged);
      // kill at a different point of the stream each time
      const deadline = Date.now() + 30_000;
      while (acknowledged.length - before < 300 + 200 * run && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      server.child.kill('SIGKILL');
      await server.exited;
      await load;
      clients.splice(0);
      expect(acknowledged.length - before).toBeGreaterThanOrEqual(300);
      grouped += server.logs.filter((l) => l.msg === 'flushed' && Number(l['sessions']) > 1).length;
    }
    expect(grouped).toBeGreaterThan(0);

    const server = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const reader = await connectEventer(await server.address());
    clients.push(reader);
    const stored = new Set((await reader.query({ types: [['load', '*']], maxResults: 10_000_000 })).map(key));
    expect(acknowledged.filter((e) => !stored.has(key(e)))).toEqual([]);
    expect(new Set(acknowledged.map(key)).size).toBe(acknowledged.length); // no id given twice
  }, 120_000);

  it('commits several requests of one pipelining connection per fsync, answering them in order', async () => {
    const dir = await tempDir();
    const conf = lmdbConf({ flush_period: 0 });
    (conf['log'] as Record<string, unknown>)['loggers'] = { 'hat.event.backend': { level: 'DEBUG' } };
    const server = spawnCli(['server', '--conf', await writeConf(dir, conf)], { cwd: dir });
    const client = await connectEventer(await server.address());
    clients.push(client);
    const requests = 400;
    const flushedBefore = server.logs.filter((l) => l.msg === 'flushed').length;
    const order: number[] = [];
    const registered = await Promise.all(Array.from({ length: requests }, (_, i) =>
      client.registerWithResponse([{ type: ['pipe'], sourceTimestamp: null, payload: { type: 'json', data: i } }]).then(([e]) => (order.push(i), e!))));
    expect(order).toEqual(Array.from({ length: requests }, (_, i) => i));
    const sessions = registered.map((e) => e.id.session);
    expect(sessions).toEqual([...sessions].sort((a, b) => a - b));
    // one connection, yet far fewer commits than requests: each waited only for the commit holding it
    await server.waitForLog((l) => l.msg === 'flushed' && l['last_id'] === eventIdKey(registered.at(-1)!.id));
    const commits = server.logs.filter((l) => l.msg === 'flushed').slice(flushedBefore);
    expect(commits.reduce((n, l) => n + Number(l['sessions']), 0)).toBeGreaterThanOrEqual(requests);
    expect(commits.length).toBeLessThan(requests / 2);
    const stored = await client.query({ types: [['pipe']], maxResults: requests + 1 }); // newest first
    expect(stored.reverse().map((e) => (e.payload?.type === 'json' ? jsonPayloadText(e.payload) : null))).toEqual(Array.from({ length: requests }, (_, i) => String(i)));
  }, 60_000);
});
