// Paged queries through the client (src/eventer/query-pages.ts) against our server over TCP:
// the pages joined are the one-query answer; and a server's max_query_results makes a larger
// query fail whole while pages within it read everything.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event, QueryData, RegisterEvent } from '../../src/common/types.ts';
import type { EventerClient } from '../../src/eventer/client.ts';
import { createEngine } from '../../src/engine/index.ts';
import { createEventerServer } from '../../src/eventer/server.ts';
import { openLmdbBackend } from '../../src/backends/lmdb/backend.ts';
import { recordingLogger } from '../helpers/logger.ts';
import { closedAfterEach } from './helpers.ts';

const servers = closedAfterEach();

async function collectPages(client: EventerClient, data: QueryData, pageSize: number): Promise<Event[][]> {
  const pages: Event[][] = [];
  for await (const page of client.queryPages(data, pageSize)) pages.push(page);
  return pages;
}

const idsOf = (events: Event[]): string[] => events.map((e) => `${e.id.session}/${e.id.instance}`);

/** Sessions of 1 to 7 events (a session's events share their timestamp), types a/b/c, source times with ties. */
async function registerSessions(client: EventerClient, sizes: number[]): Promise<void> {
  let n = 0;
  for (const size of sizes) {
    const events: RegisterEvent[] = Array.from({ length: size }, () => {
      n++;
      return { type: ['t', 'abc'[n % 3]!], sourceTimestamp: { s: 1_700_000_000 + (n % 11), us: 0 }, payload: null };
    });
    await client.registerWithResponse(events);
  }
}

describe('eventer client: paged queries', () => {
  it('pages joined are the one-query answer, whatever the page size', async () => {
    const server = await servers.server();
    const client = await servers.client(server.address);
    await registerSessions(client, [1, 7, 3, 3, 1, 5, 7, 2, 1, 1, 6, 4]);
    const queries = fc.record({
      // Our events only: the server's CONNECTED events have no source timestamp.
      types: fc.constantFrom<string[][]>([['t', 'a']], [['t', '*']], [['t', 'b'], ['t', 'c']]),
      order: fc.constantFrom('ascending' as const, 'descending' as const),
      orderBy: fc.constantFrom('timestamp' as const, 'sourceTimestamp' as const),
      uniqueType: fc.boolean(),
      maxResults: fc.option(fc.nat(40), { nil: undefined }),
    });
    await fc.assert(fc.asyncProperty(queries, fc.constantFrom(1, 2, 3, 5, 100), async (q, pageSize) => {
      const whole = await client.query(q);
      const pages = await collectPages(client, q, pageSize);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(pageSize);
      expect(idsOf(pages.flat()), JSON.stringify({ q, pageSize })).toEqual(idsOf(whole));
    }), { numRuns: 60 });
  }, 60_000);

  it('a bad page size is refused', async () => {
    const server = await servers.server();
    const client = await servers.client(server.address);
    await expect(collectPages(client, {}, 0)).rejects.toThrow(/pageSize must be a positive integer/);
  });
});

describe('eventer server over lmdb: max_query_results', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a larger query closes the connection with the reason logged; pages within the bound read everything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-pages-'));
    dirs.push(dir);
    const backend = await openLmdbBackend({
      db_path: path.join(dir, 'events.db'), max_db_size: 1 << 26, flush_period: 30, conditions: [],
      latest: { subscriptions: [['*']] }, ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
      max_query_results: 20,
    }, { cleanup: false });
    const engine = await createEngine({ server_id: 1, modules: [] }, backend);
    const logs: string[] = [];
    const server = await createEventerServer(engine, 'tcp+sbs://127.0.0.1:0', { logger: recordingLogger(logs) });
    try {
      const writer = await servers.client(server.addresses[0]!);
      await registerSessions(writer, [7, 7, 7, 7, 7]);
      await backend.flush();
      const reader = await servers.client(server.addresses[0]!);
      // Pages of 13: sessions of 7 events share their time, so a page asks for at most 13 + 7.
      const pages = await collectPages(reader, { types: [['t', '*']], order: 'ascending' }, 13);
      expect(pages.flat()).toHaveLength(35);
      await expect(reader.query({ types: [['t', '*']] })).rejects.toThrow(/connection closed/);
      await reader.closed;
      expect(logs.join('\n')).toMatch(/request failed: .*max_query_results \(20 events\)/);
    } finally {
      await server.close();
      await engine.close();
      await backend.close();
    }
  });
});
