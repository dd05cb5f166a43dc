// Two server processes in a BLESS_ONE monitor group (docs/protocol.md, "The event server as a
// member"), around the monitor stand-in: only the blessed one runs its engine and listens; the
// standby syncs; failover on SIGKILL and SIGTERM, pre-emption by a better rank, the monitor going
// away, and an application following the active server across switchovers.
import { afterEach, describe, expect, it } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { createEventerFollower } from '../../src/eventer/follower.ts';
import { connectMonitorClient } from '../../src/monitor/client.ts';
import { compareEventIds, eventIdKey } from '../../src/common/event-id.ts';
import type { Event, EventId } from '../../src/common/types.ts';
import { startMonitorStandIn, type MonitorStandIn } from '../helpers/monitor-stand-in/monitor-server.ts';
import { cleanup, jsonLines, runCli } from './helpers.ts';
import { blessings, heldBy, listening, spawnMember, startMember, untilLogged, type MemberProcess } from './monitor-helpers.ts';
import { parseId } from './syncer-helpers.ts';
import { until } from '../helpers/until.ts';

const monitors: MonitorStandIn[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await cleanup();
  await Promise.all(monitors.splice(0).map((m) => m.kill()));
});

async function monitor(opts: Parameters<typeof startMonitorStandIn>[0] = {}): Promise<MonitorStandIn> {
  const m = await startMonitorStandIn(opts);
  monitors.push(m);
  return m;
}

async function client(address: string): Promise<EventerClient> {
  const c = await connectEventer(address);
  closers.push(() => c.close());
  return c;
}

const test = (session: number, count: number): { type: string[]; sourceTimestamp: null; payload: { type: 'json'; data: number } }[] =>
  Array.from({ length: count }, (_, i) => ({ type: ['test', String(session)], sourceTimestamp: null, payload: { type: 'json', data: i } }));

const keys = (events: Event[]): string[] => events.map((e) => eventIdKey(e.id)).sort();

/** The engine's last status event in a stopped server's database (`lmdb query latest`). */
async function engineStatusIn(member: MemberProcess): Promise<unknown> {
  const result = await runCli(['lmdb', 'query', '--db', `${member.dir}/data/events.db`, 'latest', '--server-id', String(member.spec.serverId), '--event-type', 'event/engine'], { cwd: member.dir });
  expect(result.code).toBe(0);
  return (jsonLines(result.stdout)[0] as { payload: { data: unknown } }).payload.data;
}

/** The highest id of `serverId` a server reported flushed (its backend's debug 'flushed' lines). */
function lastFlushed(member: MemberProcess, serverId: number): EventId | null {
  const ids = member.proc.logs.filter((l) => l.msg === 'flushed').map((l) => parseId(l['last_id'] as string)).filter((id) => id.server === serverId);
  return ids.reduce<EventId | null>((a, b) => (a === null || compareEventIds(b, a) > 0 ? b : a), null);
}

async function queryAll(address: string, serverId: number): Promise<Event[]> {
  return (await client(address)).query({ serverId, order: 'ascending', maxResults: 1_000_000 });
}

/** A member that the monitor has blessed: its engine runs and its eventer server listens. */
async function startActive(m: MonitorStandIn, serverId: number): Promise<MemberProcess> {
  const member = await startMember({ serverId, monitorAddress: m.address });
  await untilLogged(member.proc, 'eventer server listening');
  return member;
}

/** Server 1 blessed, then server 2 in standby. */
async function activeAndStandby(m: MonitorStandIn): Promise<[MemberProcess, MemberProcess]> {
  const one = await startActive(m, 1);
  const two = await startMember({ serverId: 2, monitorAddress: m.address });
  await untilLogged(two.proc, 'standby: ready, waiting for the blessing');
  return [one, two];
}

describe('two servers in a BLESS_ONE group', () => {
  it('only the blessed one listens; its events reach the standby; SIGKILL: the standby serves every flushed event; the old one comes back as standby and catches up', { timeout: 120_000 }, async () => {
    const m = await monitor();
    const [one, two] = await activeAndStandby(m);
    expect(await listening(one.eventer)).toBe(true);
    expect(await listening(two.eventer)).toBe(false);
    await untilLogged(two.proc, 'syncer peer joined');
    expect(two.proc.logs.find((l) => l.msg === 'syncer peer joined')).toMatchObject({ server_id: 1, address: one.syncer });

    // Registered on the active one, held by the standby through the Syncer.
    const writer = await client(one.eventer);
    const first = (await writer.registerWithResponse(test(1, 20))).map((e) => e!);
    await until(async () => keys(await heldBy(two, 1)).includes(eventIdKey(first.at(-1)!.id)), 30_000, 'the standby holding the events', 50);

    // More events, then SIGKILL in the middle of the flushes.
    for (let s = 2; s < 6; s++) await writer.registerWithResponse(test(s, 20));
    one.proc.child.kill('SIGKILL');
    await one.proc.exited;
    await untilLogged(two.proc, 'eventer server listening');
    expect(await listening(two.eventer)).toBe(true);
    // [Q9] The peer that left the group is let go, not retried for ever.
    expect(await untilLogged(two.proc, 'syncer peer left')).toMatchObject({ server_id: 1, address: one.syncer });
    const onTwo = await queryAll(two.eventer, 1);
    expect(keys(onTwo)).toEqual(expect.arrayContaining([...keys(first), eventIdKey(lastFlushed(one, 1)!)]));

    // The old one restarts on its folder: standby now, and it catches up with the new active one.
    const again = await startMember(one.again());
    await untilLogged(again.proc, 'standby: ready, waiting for the blessing');
    expect(await listening(again.eventer)).toBe(false);
    expect(await untilLogged(two.proc, 'syncer peer joined', 2)).toMatchObject({ server_id: 1, address: again.syncer });
    // Every event it had flushed before the kill (all its file holds of server 1) is on the new
    // active one: what it flushed in its last moments but had not sent yet comes from it now.
    const flushedByOne = keys(await heldBy(again, 1));
    expect(flushedByOne).toEqual(expect.arrayContaining(keys(onTwo)));
    await until(async () => (await queryAll(two.eventer, 1)).length >= flushedByOne.length, 30_000, 'the new active one holding the old one\'s events', 50);
    expect(keys(await queryAll(two.eventer, 1))).toEqual(flushedByOne);
    const later = (await (await client(two.eventer)).registerWithResponse(test(7, 10))).map((e) => e!);
    await until(async () => keys(await heldBy(again, 2)).includes(eventIdKey(later.at(-1)!.id)), 30_000, 'the restarted one catching up', 50);
    const ofTwo = keys(await queryAll(two.eventer, 2));
    expect(keys(await heldBy(again, 2))).toEqual(expect.arrayContaining(ofTwo.filter((k) => k <= eventIdKey(later.at(-1)!.id))));
    expect(blessings(again)).toBe(0);
  });

  it('a better rank takes over: the old active stops its engine cleanly (STOPPED stored and synced before the release) and stays up in standby', { timeout: 60_000 }, async () => {
    const m = await monitor({ ranks: [{ name: 'event-2', group: 'event', rank: 0 }] });
    const one = await startActive(m, 1);
    await (await client(one.eventer)).registerWithResponse(test(1, 10));
    const two = await startMember({ serverId: 2, monitorAddress: m.address });
    await untilLogged(two.proc, 'eventer server listening');
    // When the new one starts, it already holds the old one's STOPPED: flushed and synced before the release.
    const ofOne = (await queryAll(two.eventer, 1)).sort((a, b) => compareEventIds(a.id, b.id));
    expect(ofOne.at(-1)).toMatchObject({ type: ['event', 'engine'], payload: { type: 'json', data: 'STOPPED' } });
    expect(ofOne.filter((e) => e.type[0] === 'test')).toHaveLength(10);
    expect(one.proc.logs.find((l) => l.msg === 'blessing lost: stopping')).toMatchObject({ reason: 'token revoked' });
    expect(one.proc.logs.find((l) => l.msg === 'engine stopped')).toMatchObject({ clean: true });
    await untilLogged(one.proc, 'standby: ready, waiting for the blessing', 2);
    expect(await listening(one.eventer)).toBe(false);
    expect(one.proc.child.exitCode).toBeNull();
    expect(blessings(one)).toBe(1);
  });

  it('the monitor stopping (MsgClose) stops both servers with exit status 3, the active one after storing STOPPED', { timeout: 60_000 }, async () => {
    const m = await monitor();
    const [one, two] = await activeAndStandby(m);
    await m.close();
    for (const member of [one, two]) {
      expect(await member.proc.exited).toEqual({ code: 3, signal: null });
      expect(member.proc.logs.find((l) => l.msg === 'lost the monitor: stopping the server')?.['reason']).toMatch(/MsgClose/);
    }
    expect(one.proc.logs.find((l) => l.msg === 'engine stopped')).toMatchObject({ clean: true });
    expect(await engineStatusIn(one)).toBe('STOPPED');
  });

  it('the monitor crashing stops the server with exit status 3; a monitor not there at start: exit status 3 at once', { timeout: 60_000 }, async () => {
    const m = await monitor();
    const one = await startActive(m, 1);
    await m.kill();
    expect(await one.proc.exited).toEqual({ code: 3, signal: null });
    expect(await engineStatusIn(one)).toBe('STOPPED');
    // The same configuration again, nobody listening on the monitor's address now.
    const { proc } = await spawnMember(one.again());
    expect(await proc.exited).toEqual({ code: 3, signal: null });
    expect(proc.stderr()).toContain(`hat-event-ts: error: cannot connect to the monitor at ${m.address}`);
  });

  it('a following client keeps registering across two switchovers (SIGTERM) and loses nothing it was told was registered', { timeout: 120_000 }, async () => {
    const m = await monitor();
    const one = await startActive(m, 1);
    const two = await startMember({ serverId: 2, monitorAddress: m.address });
    await untilLogged(two.proc, 'synced with syncer peer');
    const app = await connectMonitorClient({ name: 'app', group: 'apps', monitor_address: m.address });
    closers.push(() => app.close());
    const follower = createEventerFollower(app, { serverGroup: 'event' });
    closers.push(() => follower.close());

    const acknowledged: Event[] = [];
    let running = true;
    const appLoop = (async () => {
      for (let i = 0; running; ) {
        try {
          const [event] = await (await follower.connection()).registerWithResponse([{ type: ['app', String(i)], sourceTimestamp: null, payload: null }]);
          if (event) acknowledged.push(event);
          i++;
        } catch {
          // the connection closed under the request: not acknowledged, sent again on the next one
        }
      }
    })();
    const registeredOn = async (serverId: number, from: number): Promise<void> =>
      until(() => acknowledged.slice(from).filter((e) => e.id.server === serverId).length >= 20, 30_000, `registering on server ${serverId}`, 50);

    await registeredOn(1, 0);
    let mark = acknowledged.length;
    one.proc.child.kill('SIGTERM');
    expect(await one.proc.exited).toEqual({ code: 0, signal: null });
    await registeredOn(2, mark);
    const again = await startMember(one.again());
    await untilLogged(again.proc, 'synced with syncer peer');
    mark = acknowledged.length;
    two.proc.child.kill('SIGTERM');
    expect(await two.proc.exited).toEqual({ code: 0, signal: null });
    await registeredOn(1, mark);
    running = false;
    await appLoop;

    const held = new Set([...keys(await queryAll(again.eventer, 1)), ...keys(await queryAll(again.eventer, 2))]);
    expect(acknowledged.filter((e) => !held.has(eventIdKey(e.id))).map((e) => eventIdKey(e.id))).toEqual([]);
    expect(new Set(acknowledged.map((e) => e.id.server))).toEqual(new Set([1, 2]));
  });
});
