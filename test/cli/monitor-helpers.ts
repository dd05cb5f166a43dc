// Event servers as members of a Hat Monitor group, as real processes (`hat-event-ts server
// --conf ...` with a `monitor:` section) around the monitor stand-in of the tests: LMDB in their
// own folder, the eventer on a fixed free port (a member publishes it before it listens), the
// Syncer server on any free port, syncer_token 'tok', group 'event', name `event-<server id>`.
import * as net from 'node:net';
import { connectSyncer } from '../../src/syncer/stream.ts';
import type { Event } from '../../src/common/types.ts';
import { freePort } from '../helpers/event-server-member.ts';
import { lmdbConf, spawnCli, tempDir, writeConf, type CliProcess, type LogLine } from './helpers.ts';

export interface MemberSpec {
  serverId: number;
  monitorAddress: string;
  /** restart on an existing folder (and the same eventer port) */
  dir?: string;
  eventerPort?: number;
}

export interface MemberProcess {
  proc: CliProcess;
  dir: string;
  spec: MemberSpec;
  /** the published eventer address (listening only while blessed) */
  eventer: string;
  syncer: string;
  /** the spec to start it again on its folder and port */
  again(): MemberSpec;
}

/** Starts a member and waits until it has joined the monitor group. */
export async function startMember(spec: MemberSpec): Promise<MemberProcess> {
  const { proc, dir, eventerPort } = await spawnMember(spec);
  const syncer = (await proc.waitForLog((l) => l.msg === 'syncer server listening'))['address'] as string;
  await proc.waitForLog((l) => l.msg === 'joined the monitor group');
  return {
    proc, dir, spec, syncer,
    eventer: `tcp+sbs://127.0.0.1:${eventerPort}`,
    again: () => ({ ...spec, dir, eventerPort }),
  };
}

/** The process of a member, not waited for. */
export async function spawnMember(spec: MemberSpec): Promise<{ proc: CliProcess; dir: string; eventerPort: number }> {
  const dir = spec.dir ?? await tempDir();
  const eventerPort = spec.eventerPort ?? await freePort();
  const conf = lmdbConf({ flush_period: 0.1 });
  (conf['engine'] as Record<string, unknown>)['server_id'] = spec.serverId;
  (conf['log'] as Record<string, unknown>)['loggers'] = { 'hat.event.backend': { level: 'DEBUG' } }; // the 'flushed' lines
  conf['eventer_server'] = { address: `tcp+sbs://127.0.0.1:${eventerPort}` };
  conf['syncer_server'] = { address: 'tcp+sbs://127.0.0.1:0' };
  conf['syncer_token'] = 'tok';
  conf['monitor'] = { name: `event-${spec.serverId}`, group: 'event', monitor_address: spec.monitorAddress };
  return { proc: spawnCli(['server', '--conf', await writeConf(dir, conf)], { cwd: dir }), dir, eventerPort };
}

/** Waits until `proc` has logged `msg` `count` times (a second blessing, a second standby). */
export async function untilLogged(proc: CliProcess, msg: string, count = 1, ms = 20_000): Promise<LogLine> {
  const end = Date.now() + ms;
  for (;;) {
    const lines = proc.logs.filter((l) => l.msg === msg);
    if (lines.length >= count) return lines[count - 1]!;
    if (Date.now() > end) throw new Error(`'${msg}' logged ${lines.length} times, not ${count}, within ${ms} ms; stderr:\n${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const blessings = (m: MemberProcess): number => m.proc.logs.filter((l) => l.msg === 'eventer server listening').length;

/** True when something accepts TCP connections on the eventer port. */
export function listening(address: string): Promise<boolean> {
  const { port } = new URL(address);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Every flushed event of `serverId` the server holds, read through its Syncer server (a standby
 * has no eventer listener): the backlog up to MsgSynced.
 */
export async function heldBy(member: MemberProcess, serverId: number): Promise<Event[]> {
  const stream = await connectSyncer(member.syncer, { clientName: 'test-reader', lastEventId: { server: serverId, session: 0, instance: 0 } });
  const events: Event[] = [];
  let synced = false;
  void stream.synced.then(() => {
    synced = true;
    void stream.close();
  }, () => undefined);
  try {
    for await (const batch of stream) {
      events.push(...batch);
      if (synced) break;
    }
  } finally {
    await stream.close();
  }
  return events;
}
