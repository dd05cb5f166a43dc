// Failover of a BLESS_ONE group of two event servers on 127.0.0.1, around the monitor stand-in of
// the tests, with an application following the active server (createEventerFollower). Measured
// from the trigger to (a) the standby's eventer listener accepting connections and (b) the
// follower's next register being answered by the new server.
//
//   npx tsx bench/monitor-failover.ts [--repeat 5] [--json out.json]
//
// Server processes (`hat-event-ts server` with LMDB and a `monitor:` section, as the redundancy
// tests run them): `SIGTERM` of the active one (it stops its engine, flushes, syncs, releases,
// disconnects) and `SIGKILL` (the monitor drops it as its socket closes). In-process rows (one
// process, library members with a memory backend): `release` = the active one goes not ready,
// `killed` = its monitor connection is cut; they leave out the separate processes' scheduling
// and the LMDB flush.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectMonitorClient } from '../src/monitor/client.ts';
import { createEventerFollower } from '../src/eventer/follower.ts';
// From test/helpers/ on purpose: the only monitor we have is the tests' stand-in (checked there
// against the recorded sessions), and the bench should time the very member the tests check.
// Both import only src/ and test/helpers/, never vitest, so they run outside the test runner.
import { startMonitorStandIn } from '../test/helpers/monitor-stand-in/monitor-server.ts';
import { startEventServerMember } from '../test/helpers/event-server-member.ts';
import { fmt, median } from '../src/bench/stats.ts';
// The server processes as the redundancy tests start them (test/cli/, no vitest either).
import { cleanup } from '../test/cli/helpers.ts';
import { listening, startMember, untilLogged } from '../test/cli/monitor-helpers.ts';

const { values: args } = parseArgs({
  options: { repeat: { type: 'string', default: '5' }, json: { type: 'string' } },
});

type Trigger = 'release' | 'killed';
type Signal = 'SIGTERM' | 'SIGKILL';

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('failover did not happen within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Registers through the follower until the server with `serverId` answers; when that happened. */
async function registeredOn(follower: ReturnType<typeof createEventerFollower>, serverId: number): Promise<number> {
  for (;;) {
    try {
      const [event] = await (await follower.connection()).registerWithResponse([{ type: ['bench'], sourceTimestamp: null, payload: null }]);
      if (event?.id.server === serverId) return performance.now();
    } catch {
      // the old connection closed under the request: take the next one
    }
  }
}

/** When the eventer port first accepts a connection, polled every millisecond. */
async function acceptedAt(address: string): Promise<number> {
  while (!(await listening(address))) await new Promise((resolve) => setTimeout(resolve, 1));
  return performance.now();
}

interface Times {
  listeningMs: number;
  registeredMs: number;
}

async function inProcess(trigger: Trigger): Promise<Times> {
  const monitor = await startMonitorStandIn();
  const one = await startEventServerMember(monitor.address, 1);
  await until(() => one.component.state === 'running');
  const two = await startEventServerMember(monitor.address, 2);
  await until(() => two.component.state === 'waiting');
  const app = await connectMonitorClient({ name: 'app', group: 'apps', monitor_address: monitor.address });
  const follower = createEventerFollower(app, { serverGroup: 'event' });
  try {
    await follower.connection();
    const start = performance.now();
    if (trigger === 'release') one.component.setReady(false);
    else monitor.drop(Number(one.client.cid));
    const registeredAt = await registeredOn(follower, 2);
    return { listeningMs: two.listeningAt! - start, registeredMs: registeredAt - start };
  } finally {
    await follower.close();
    await app.close();
    await Promise.all([one.close(), two.close()]);
    await monitor.kill();
  }
}

async function processes(signal: Signal): Promise<Times> {
  const monitor = await startMonitorStandIn();
  const app = await connectMonitorClient({ name: 'app', group: 'apps', monitor_address: monitor.address });
  const follower = createEventerFollower(app, { serverGroup: 'event' });
  try {
    const one = await startMember({ serverId: 1, monitorAddress: monitor.address });
    await untilLogged(one.proc, 'eventer server listening');
    const two = await startMember({ serverId: 2, monitorAddress: monitor.address });
    await untilLogged(two.proc, 'synced with syncer peer');
    await registeredOn(follower, 1);
    const start = performance.now();
    one.proc.child.kill(signal);
    const [listeningAt, registeredAt] = await Promise.all([acceptedAt(two.eventer), registeredOn(follower, 2)]);
    return { listeningMs: listeningAt - start, registeredMs: registeredAt - start };
  } finally {
    await follower.close();
    await app.close();
    await cleanup();
    await monitor.kill();
  }
}

const repeat = Number(args.repeat);
const runs: [string, () => Promise<Times>][] = [
  ['process SIGTERM', () => processes('SIGTERM')],
  ['process SIGKILL', () => processes('SIGKILL')],
  ['in-process release', () => inProcess('release')],
  ['in-process killed', () => inProcess('killed')],
];
const results: Record<string, { listeningMs: number[]; registeredMs: number[] }> = {};
for (const [name, run] of runs) {
  const r = (results[name] = { listeningMs: [] as number[], registeredMs: [] as number[] });
  for (let i = 0; i < repeat; i++) {
    const { listeningMs, registeredMs } = await run();
    r.listeningMs.push(listeningMs);
    r.registeredMs.push(registeredMs);
  }
}

const cell = (xs: number[]): string => `${fmt(median(xs), 1)} (${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)})`;
console.log(`failover, ms from the trigger: median (min–max) of ${repeat}`);
console.log('| trigger | standby accepts eventer connections | follower register answered by the new server |');
console.log('|---|---|---|');
for (const [trigger, r] of Object.entries(results)) console.log(`| ${trigger} | ${cell(r.listeningMs)} | ${cell(r.registeredMs)} |`);
if (args.json) writeFileSync(args.json, JSON.stringify({ repeat, results }, null, 2));
