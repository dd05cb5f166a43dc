// The monitor stand-in against the recordings: replaying the clients' recorded bytes to it, every
// connection gets exactly the bytes the real hat-monitor 0.7.1 server sent. The only thing
// normalised is the master's wall clock: the stand-in takes its grant timestamps from the
// recording (recordedGrantClock) instead of its own clock.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/chatter/framing.ts';
import { MONITOR_MODULE, MonitorMsg, writeMsgClient, type MsgServer } from '../../src/sbs/monitor-messages.ts';
import { hex } from '../helpers/vectors.ts';
import { msgServerFrom, recordedFrame, session, type Session } from '../helpers/monitor-vectors.ts';
import { FrameCollector, rawConnect, recordedGrantClock, settle } from './replay-helpers.ts';
import { startMonitorStandIn, type MonitorStandIn } from '../helpers/monitor-stand-in/monitor-server.ts';

interface Timed {
  t: number;
  hex: string;
}

/** One recorded client connection, replayed from raw bytes. */
interface Connection {
  name: string;
  connectAt: number;
  sends: Timed[];
  /** What the server sent it, when recorded (the replay waits for these, then compares). */
  expected: Timed[];
  /** Time of the client's FIN, if it closed. */
  endAt?: number;
}

const fromSession = (s: Session): Connection => ({
  name: s.name,
  connectAt: s.frames[0]!.t - 1e-4,
  sends: s.frames.filter((f) => f.direction === 'client->server'),
  expected: s.frames.filter((f) => f.direction === 'server->client'),
  endAt: s.eof.find(([, d]) => d === 'client->server')?.[0],
});

type Action = { t: number; run: () => Promise<void> | void };

/**
 * Plays the connections' client side against the stand-in: each action waits until every
 * connection has received the server frames recorded before the action's time.
 */
async function replay(standIn: MonitorStandIn, conns: Connection[], extra: Action[] = []): Promise<Map<string, FrameCollector>> {
  const sockets = new Map<string, FrameCollector>();
  const actions: Action[] = [...extra];
  for (const c of conns) {
    actions.push({ t: c.connectAt, run: async () => void sockets.set(c.name, await rawConnect(standIn.address)) });
    for (const s of c.sends) actions.push({ t: s.t, run: () => void sockets.get(c.name)!.socket.write(Buffer.from(s.hex, 'hex')) });
    if (c.endAt !== undefined) {
      actions.push({
        t: c.endAt,
        run: async () => {
          // The server's answer to the last message may be recorded after the FIN: wait for all of it.
          await sockets.get(c.name)!.waitFor(c.expected.length, c.name);
          sockets.get(c.name)!.socket.end();
        },
      });
    }
  }
  actions.sort((a, b) => a.t - b.t);
  for (const action of actions) {
    for (const c of conns) {
      const socket = sockets.get(c.name);
      if (socket !== undefined) await socket.waitFor(c.expected.filter((f) => f.t < action.t).length, `${c.name} before t=${action.t}`);
    }
    await action.run();
  }
  for (const c of conns) await sockets.get(c.name)!.waitFor(c.expected.length, c.name);
  await settle(100); // nothing more may come
  return sockets;
}

let standIns: MonitorStandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.map((s) => s.kill()));
  standIns = [];
});

async function standInFor(frames: Session['frames'], closeGraceMs = 3000): Promise<MonitorStandIn> {
  const standIn = await startMonitorStandIn({ clock: recordedGrantClock(frames), closeGraceMs });
  standIns.push(standIn);
  return standIn;
}

describe('monitor stand-in replays the reference server', () => {
  it('client_component_lifecycle: the same 9 frames, MsgClose at shutdown included', async () => {
    const s = session('client_component_lifecycle');
    const standIn = await standInFor(s.frames);
    const conn = fromSession(s);
    const msgClose = conn.expected.find((f) => f.hex.includes(Buffer.from('MsgClose').toString('hex')))!;
    let stopped: Promise<void> | null = null;
    const sockets = await replay(standIn, [conn], [{ t: msgClose.t - 1e-6, run: () => void (stopped = standIn.close()) }]);
    expect(sockets.get(conn.name)!.frames).toEqual(conn.expected.map((f) => f.hex));
    await stopped; // the client closed in time, so the stand-in stops without the grace period
    await sockets.get(conn.name)!.ended;
  });

  it('event_server_1, event_server_2 and an application: the same frames on every connection', async () => {
    const one = session('event_server_1');
    const two = session('event_server_2_takes_over');
    const standIn = await standInFor([...one.frames, ...two.frames]);

    // The application of chatter_frames connects between the two servers' recorded frames.
    const appFirst = recordedFrame('app_first_msg_client');
    const appSeen = recordedFrame('app_msg_server_three_components');
    const app: Connection = { name: 'app', connectAt: 6.64, sends: [{ t: 6.642, hex: appFirst.hex }], expected: [] };

    // event-1 restarted (cid 3) as it appears in event-2's last frame; its own frames were not recorded.
    const last = msgServerFrom(two.frames.at(-1)!.decoded) as MsgServer;
    const restarted = last.components.find((c) => c.cid === 3)!;
    const restartedHello = hex(encodeFrame({ id: 1, first: 1, owner: true, token: true, last: true }, MONITOR_MODULE, MonitorMsg.client, (w) =>
      writeMsgClient(w, { name: restarted.name!, group: restarted.group!, data: restarted.data, blessingRes: { token: null, ready: true } })));
    const again: Connection = { name: 'restarted', connectAt: 8.0, sends: [{ t: 8.097, hex: restartedHello }], expected: [] };

    // event-2's SIGKILL ends the recording: what it caused (token 3 for event-1) was not recorded.
    const conns = [fromSession(one), { ...fromSession(two), endAt: undefined }, app, again];
    const sockets = await replay(standIn, conns);
    expect(sockets.get(one.name)!.frames).toEqual(conns[0]!.expected.map((f) => f.hex));
    expect(sockets.get(two.name)!.frames).toEqual(conns[1]!.expected.map((f) => f.hex));
    expect(sockets.get('app')!.frames[1]).toBe(appSeen.hex);
    await standIn.kill(); // before the sockets go, which would grant a token the recording does not have
    for (const socket of sockets.values()) socket.socket.destroy();
  });

  it('answers a client whose data is not JSON with MsgClose and drops it after the grace period', async () => {
    const standIn = await standInFor([], 200);
    const socket = await rawConnect(standIn.address);
    socket.socket.write(encodeFrame({ id: 1, first: 1, owner: true, token: true, last: true }, MONITOR_MODULE, MonitorMsg.client, (w) =>
      writeMsgClient(w, { name: 'x', group: 'g', data: '{not json', blessingRes: { token: null, ready: true } })));
    await socket.ended;
    expect(socket.frames.map((f) => f.includes(Buffer.from('MsgClose').toString('hex')))).toEqual([false, true]);
    expect(standIn.logs.join('\n')).toMatch(/bad MsgClient/);
    expect(standIn.components()).toEqual([]);
  });
});
