// runServer with the Syncer, in process: a server on a backend that does not persist serves its
// events through the flushed-on-register view; synced_restart_engine restarts the engine (and the
// eventer server, on the same address) once a backlog that brought events is synced, and only then.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runServer, type RunningServer } from '../../src/server/run-server.ts';
import type { ServerConf } from '../../src/config/server-conf.ts';
import { defaultServerConf } from '../../src/config/default.ts';
import { connectEventer } from '../../src/eventer/client.ts';
import { connectSyncer } from '../../src/syncer/stream.ts';
import type { Event } from '../../src/common/types.ts';
import { captureLogger, type CapturedLine } from '../helpers/logger.ts';
import { until } from '../helpers/until.ts';

const servers: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).reverse().map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(conf: ServerConf, entries: CapturedLine[] = []): Promise<RunningServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-syncer-'));
  dirs.push(dir);
  const server = await runServer(conf, { baseDir: dir, logger: captureLogger('hat.event', entries) });
  servers.push(server);
  return server;
}

function conf(serverId: number, backend: 'lmdb' | 'memory' | 'dummy', extra: Partial<ServerConf> = {}): ServerConf {
  return {
    backend: backend === 'lmdb' ? { ...defaultServerConf().backend, flush_period: 0.05 } : { module: backend },
    engine: { server_id: serverId, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:0' },
    ...extra,
  };
}

const syncerAt = { syncer_server: { address: 'tcp+sbs://127.0.0.1:0' } };
const peer = (server: RunningServer, serverId = 1): Partial<ServerConf> => ({ syncer_peers: [{ server_id: serverId, address: server.addresses.syncer[0]! }] });

/** A server's own engine events and Syncer client status events, in order. */
async function ownStory(server: RunningServer, serverId: number): Promise<string[]> {
  const client = await connectEventer(server.addresses.eventer[0]!);
  try {
    const events = await client.query({ serverId, types: [['event', 'engine'], ['event', 'syncer', 'client', '*']], order: 'ascending', maxResults: 1000 });
    return events.sort((a, b) => a.id.session - b.id.session).map((e: Event) => `${e.type.at(-1)}=${JSON.stringify(e.payload?.type === 'json' ? e.payload.data : null)}`);
  } finally {
    await client.close();
  }
}

/** Resolves once `server` has flushed a session of its own: a peer's backlog is not empty from then on. */
async function untilFlushed(server: RunningServer, serverId: number): Promise<void> {
  const stream = await connectSyncer(server.addresses.syncer[0]!, { clientName: 'probe', lastEventId: { server: serverId, session: 0, instance: 0 } });
  for await (const _session of stream) break;
}

describe('runServer with the Syncer', () => {
  it('memory backend: its Syncer server streams what it holds, then every session it registers', async () => {
    const a = await start(conf(1, 'memory', syncerAt));
    expect(a.addresses.syncer).toHaveLength(1);
    const writer = await connectEventer(a.addresses.eventer[0]!);
    const [first] = await writer.registerWithResponse([{ type: ['test', 'a'], sourceTimestamp: null, payload: null }]);
    const stream = await connectSyncer(a.addresses.syncer[0]!, { clientName: 'reader', lastEventId: { server: 1, session: 0, instance: 0 } });
    const got: Event[] = [];
    const reading = (async () => {
      for await (const session of stream) got.push(...session);
    })();
    await stream.synced;
    const [second] = await writer.registerWithResponse([{ type: ['test', 'b'], sourceTimestamp: null, payload: null }]);
    await until(() => got.some((e) => e.type[1] === 'b'));
    const ids = got.map((e) => `${e.id.session}/${e.id.instance}`);
    expect(ids).toContain(`${first!.id.session}/${first!.id.instance}`);
    expect(ids).toContain(`${second!.id.session}/${second!.id.instance}`);
    expect(got[0]!.payload?.type === 'json' && got[0]!.payload.data).toBe('STARTED');
    await writer.close();
    await stream.close();
    await reading;
  });

  it('synced_restart_engine: the engine restarts once a backlog with events is synced; the eventer serves on the same address', async () => {
    const a = await start(conf(1, 'lmdb', syncerAt));
    await untilFlushed(a, 1);
    const logs: CapturedLine[] = [];
    const b = await start(conf(2, 'memory', { ...peer(a), synced_restart_engine: true }), logs);
    const before = b.engine;
    const eventer = b.addresses.eventer[0]!;
    await until(() => b.engine !== before && b.engine!.isOpen);
    expect(logs.filter((l) => l.message === 'restarting the engine').map((l) => l.fields['reason'])).toEqual([
      expect.stringMatching(/^synced \d+ events from server 1$/),
    ]);
    // Hat's order: the status event true, then STOPPED, then a new engine's STARTED.
    await until(async () => (await ownStory(b, 2)).length === 5);
    expect(await ownStory(b, 2)).toEqual(['engine="STARTED"', 'synced=false', 'synced=true', 'engine="STOPPED"', 'engine="STARTED"']);
    expect(b.addresses.eventer).toEqual([eventer]);
    // Live events from A later do not restart it again.
    const writer = await connectEventer(a.addresses.eventer[0]!);
    const [live] = await writer.registerWithResponse([{ type: ['test', 'live'], sourceTimestamp: null, payload: null }]);
    await writer.close();
    const reader = await connectEventer(eventer);
    await until(async () => (await reader.query({ serverId: 1, types: [['test', 'live']] })).length === 1);
    await reader.close();
    expect(live).not.toBeNull();
    expect(logs.filter((l) => l.message === 'restarting the engine')).toHaveLength(1);
  });

  it('synced_restart_engine with metrics_server: the new engine counts on in the same series', async () => {
    const a = await start(conf(1, 'lmdb', syncerAt));
    await untilFlushed(a, 1);
    const logs: CapturedLine[] = [];
    const b = await start(conf(2, 'memory', { ...peer(a), synced_restart_engine: true, metrics_server: { address: 'http://127.0.0.1:0' } }), logs);
    const before = b.engine;
    await until(() => b.engine !== before && b.engine!.isOpen);
    expect(logs.filter((l) => l.message === 'restarting the engine')).toHaveLength(1);
    expect(b.isOpen).toBe(true);
    // both engines' STARTED sessions in one series (the second engine's registration used to be refused as a duplicate)
    await until(async () => /^hat_event_sessions_total\{source_type="engine"\} [2-9]/m.test(await (await fetch(`${b.addresses.metrics}/metrics`)).text()));
    const text = await (await fetch(`${b.addresses.metrics}/metrics`)).text();
    expect(text.match(/^hat_event_eventer_connections /gm)).toHaveLength(1);
    expect((await fetch(`${b.addresses.metrics}/healthz`)).status).toBe(200);
  });

  it('synced_restart_engine: no restart after an empty backlog, nor without the option', async () => {
    const dummy = await start(conf(1, 'dummy', syncerAt)); // holds nothing: its backlog is always empty
    const lmdb = await start(conf(3, 'lmdb', syncerAt));
    await untilFlushed(lmdb, 3);
    const logs: CapturedLine[] = [];
    const b = await start(conf(2, 'memory', { syncer_peers: [
      { server_id: 1, address: dummy.addresses.syncer[0]! },
    ], synced_restart_engine: true }), logs);
    const c = await start(conf(4, 'memory', peer(lmdb, 3)), logs);
    await until(() => b.syncerClient!.peers.every((p) => p.state === 'synced') && c.syncerClient!.peers.every((p) => p.state === 'synced'));
    expect(await ownStory(b, 2)).toEqual(['engine="STARTED"', 'synced=false', 'synced=true']);
    expect(await ownStory(c, 4)).toEqual(['engine="STARTED"', 'synced=false', 'synced=true']);
    expect(logs.filter((l) => l.message === 'restarting the engine')).toEqual([]);
    expect(logs.filter((l) => l.message === 'synced with syncer peer').map((l) => [l.fields['server_id'], l.fields['backlog_events'] === 0]))
      .toEqual(expect.arrayContaining([[1, true], [3, false]]));
  });
});
