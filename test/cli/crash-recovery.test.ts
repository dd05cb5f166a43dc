// SIGKILL during a stream of registrations: every event the server reported flushed survives,
// and event ids after the restart continue above every id handed out before the kill.
import { afterEach, describe, expect, it } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { compareEventIds } from '../../src/common/event-id.ts';
import type { Event, EventId } from '../../src/common/types.ts';
import { cleanup, lmdbConf, spawnCli, tempDir, writeConf, type CliProcess } from './helpers.ts';

const clients: EventerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await cleanup();
});

const parseId = (text: string): EventId => {
  const [server, session, instance] = text.split('/').map(Number) as [number, number, number];
  return { server, session, instance };
};
const maxId = (ids: EventId[]): EventId => ids.reduce((a, b) => (compareEventIds(a, b) >= 0 ? a : b));

function lastReportedFlush(server: CliProcess): EventId | null {
  const flushed = server.logs.filter((l) => l.msg === 'flushed').map((l) => parseId(l['last_id'] as string));
  return flushed.length === 0 ? null : maxId(flushed);
}

describe('crash recovery (SIGKILL)', () => {
  it('keeps every reported-flushed event and never reuses an id handed out before the kill', async () => {
    const dir = await tempDir();
    const conf = lmdbConf({ flush_period: 0.2 });
    (conf['log'] as Record<string, unknown>)['loggers'] = { 'hat.event.backend': { level: 'DEBUG' } };
    const confFile = await writeConf(dir, conf);
    const first = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const address = await first.address();
    const watcher = await connectEventer(address, { subscriptions: [['test', '*']] });
    const writer = await connectEventer(address);
    clients.push(watcher, writer);

    const handedOut: EventId[] = [];
    void (async () => {
      for await (const events of watcher) handedOut.push(...events.map((e) => e.id));
    })().catch(() => undefined);
    let stop = false;
    const stream = (async () => {
      for (let i = 0; !stop; i++) {
        const batch = Array.from({ length: 20 }, (_, j) => ({
          type: ['test', String(j)], sourceTimestamp: null, payload: { type: 'json' as const, data: i },
        }));
        const results = await writer.registerWithResponse(batch);
        for (const e of results) if (e) handedOut.push(e.id);
      }
    })().catch(() => undefined); // the kill ends it

    await first.waitForLog(() => first.logs.filter((l) => l.msg === 'flushed').length >= 3);
    first.child.kill('SIGKILL');
    await first.exited;
    stop = true;
    await stream;
    const flushedUpTo = lastReportedFlush(first)!;
    const highest = maxId(handedOut);
    // the kill came while events were in flight: some ids were handed out after the last report
    expect(compareEventIds(highest, flushedUpTo)).toBeGreaterThan(0);

    const second = spawnCli(['server', '--conf', confFile], { cwd: dir });
    const client = await connectEventer(await second.address());
    clients.push(client);
    const stored = await client.query({ types: [['test', '*']], order: 'ascending', maxResults: 10_000_000 });
    const storedKeys = new Set(stored.map((e: Event) => `${e.id.session}/${e.id.instance}`));
    const mustSurvive = handedOut.filter((id) => compareEventIds(id, flushedUpTo) <= 0);
    expect(mustSurvive.length).toBeGreaterThan(0);
    const lost = mustSurvive.filter((id) => !storedKeys.has(`${id.session}/${id.instance}`));
    expect(lost).toEqual([]);

    const [fresh] = await client.registerWithResponse([{ type: ['test', 'after'], sourceTimestamp: null, payload: null }]);
    expect(compareEventIds(fresh!.id, highest)).toBeGreaterThan(0);
    const [started] = await client.query({ types: [['event', 'engine']], maxResults: 1 });
    expect(started!.payload).toMatchObject({ type: 'json' });
    expect(compareEventIds(started!.id, highest)).toBeGreaterThan(0);
    // every id of the new run is above the old ones, session by session
    expect(started!.id.session).toBeGreaterThan(highest.session);
  });
});
