// Monitor stand-ins, clients and components a test starts, all closed after it; and a run
// function that records when it ran, so tests can check that members never overlapped.
import { afterEach } from 'vitest';
import { connectMonitorClient, type MonitorClient, type MonitorClientOptions } from '../../src/monitor/client.ts';
import { createMonitorComponent, type ComponentRun, type MonitorComponent } from '../../src/monitor/component.ts';
import type { SbsInteger } from '../../src/sbs/monitor-messages.ts';
import { startMonitorStandIn, type MonitorStandIn, type StandInOptions } from '../helpers/monitor-stand-in/monitor-server.ts';

export { until } from '../eventer/helpers.ts';
import { startEventServerMember, untilAborted, type EventServerMember, type EventServerMemberOptions } from '../helpers/event-server-member.ts';

/** Every run of every member in one timeline: which ran when, and how many at once. */
export class RunLog {
  readonly runs: { name: string; token: SbsInteger; stopped: boolean }[] = [];
  running = 0;
  maxRunning = 0;

  /** Runs until aborted, then takes `cleanupMs` to stop (an engine stopping and flushing). */
  run(name: string, cleanupMs = 20): ComponentRun {
    return async ({ token, signal }) => {
      const entry = { name, token, stopped: false };
      this.runs.push(entry);
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      await untilAborted(signal);
      await new Promise((resolve) => setTimeout(resolve, cleanupMs));
      this.running--;
      entry.stopped = true;
    };
  }

  /** Names of the members running now. */
  active(): string[] {
    return this.runs.filter((r) => !r.stopped).map((r) => r.name);
  }
}

export interface Member {
  client: MonitorClient;
  component: MonitorComponent;
}

export function monitorsAfterEach(): {
  standIn(opts?: StandInOptions): Promise<MonitorStandIn>;
  client(address: string, name: string, group: string, opts?: MonitorClientOptions): Promise<MonitorClient>;
  member(address: string, name: string, group: string, run: ComponentRun, opts?: MonitorClientOptions): Promise<Member>;
  eventServer(address: string, serverId: number, opts?: EventServerMemberOptions): Promise<EventServerMember>;
} {
  const standIns: MonitorStandIn[] = [];
  const clients: MonitorClient[] = [];
  const servers: EventServerMember[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(standIns.splice(0).map((s) => s.kill()));
  });
  const client = async (address: string, name: string, group: string, opts: MonitorClientOptions = {}): Promise<MonitorClient> => {
    const c = await connectMonitorClient({ name, group, monitor_address: address }, opts);
    clients.push(c);
    return c;
  };
  return {
    async standIn(opts = {}) {
      const s = await startMonitorStandIn(opts);
      standIns.push(s);
      return s;
    },
    client,
    async member(address, name, group, run, opts = { ready: true }) {
      const c = await client(address, name, group, opts);
      return { client: c, component: createMonitorComponent(c, run) };
    },
    async eventServer(address, serverId, opts = {}) {
      const server = await startEventServerMember(address, serverId, opts);
      servers.push(server);
      return server;
    },
  };
}

/** The group's entries as (name, rank, request token, response token), as the spec writes them. */
export function blessingView(client: MonitorClient, group: string): string[] {
  return client.components
    .filter((c) => c.group === group)
    .map((c) => `${c.name}(${c.rank},${c.blessingReq.token ?? '-'},${c.blessingRes.token ?? '-'})`);
}
