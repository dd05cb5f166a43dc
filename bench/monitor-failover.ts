// Failover of a BLESS_ONE group of two event servers, in one process over real TCP on 127.0.0.1:
// the monitor stand-in of the tests, two members built from the library parts (engine + memory
// backend + eventer listener, run only while blessed) and an application following the active
// server. Measured from the trigger to (a) the standby's eventer listener being up and (b) the
// follower's next register being answered by the new server.
//
//   npx tsx bench/monitor-failover.ts [--repeat 5] [--json out.json]
//
// Triggers: `release` = the active one goes not ready (stops its engine, then releases; Hat's
// SIGTERM path), `killed` = its monitor connection is cut (the monitor frees the group at once,
// Hat's SIGKILL path). In-process figures: they leave out process start and OS scheduling of
// separate processes, which the server's own end-to-end measurement includes.
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

const { values: args } = parseArgs({
  options: { repeat: { type: 'string', default: '5' }, json: { type: 'string' } },
});

type Trigger = 'release' | 'killed';

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('failover did not happen within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function once(trigger: Trigger): Promise<{ listeningMs: number; registeredMs: number }> {
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
    // The application registers as soon as it has a connection, and again when one fails.
    let registeredAt = NaN;
    while (Number.isNaN(registeredAt)) {
      try {
        const [event] = await (await follower.connection()).registerWithResponse([{ type: ['bench'], sourceTimestamp: null, payload: null }]);
        if (event?.id.server === 2) registeredAt = performance.now();
      } catch {
        // the old connection closed under the request: take the next one
      }
    }
    return { listeningMs: two.listeningAt! - start, registeredMs: registeredAt - start };
  } finally {
    await follower.close();
    await app.close();
    await Promise.all([one.close(), two.close()]);
    await monitor.kill();
  }
}

const repeat = Number(args.repeat);
const results: Record<string, { listeningMs: number[]; registeredMs: number[] }> = {};
for (const trigger of ['release', 'killed'] as const) {
  const r = (results[trigger] = { listeningMs: [] as number[], registeredMs: [] as number[] });
  for (let i = 0; i < repeat; i++) {
    const { listeningMs, registeredMs } = await once(trigger);
    r.listeningMs.push(listeningMs);
    r.registeredMs.push(registeredMs);
  }
}

const cell = (xs: number[]): string => `${fmt(median(xs), 1)} (${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)})`;
console.log(`failover, ms from the trigger: median (min–max) of ${repeat}`);
console.log('| trigger | standby listening | follower register answered by the new server |');
console.log('|---|---|---|');
for (const [trigger, r] of Object.entries(results)) console.log(`| ${trigger} | ${cell(r.listeningMs)} | ${cell(r.registeredMs)} |`);
if (args.json) writeFileSync(args.json, JSON.stringify({ repeat, results }, null, 2));
