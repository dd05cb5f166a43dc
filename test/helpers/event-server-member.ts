// An event server as a member of the monitor group 'event', the way Hat runs one (what it
// publishes: docs/protocol.md, "Syncer peers"), built from the library parts: its engine and
// eventer listener exist only while the Component is blessed, and close before the token is
// released. Shared by the follower tests and bench:failover (so the bench measures the member
// the tests check), until the server itself runs as a member (phase 2).
import * as net from 'node:net';
import { createMemoryBackend } from '../../src/backends/memory.ts';
import { createEngine } from '../../src/engine/index.ts';
import { createEventerServer } from '../../src/eventer/server.ts';
import { connectMonitorClient, type MonitorClient } from '../../src/monitor/client.ts';
import { createMonitorComponent, type ComponentRun, type MonitorComponent } from '../../src/monitor/component.ts';
import type { JsonValue } from '../../src/common/types.ts';

export interface EventServerMember {
  readonly client: MonitorClient;
  readonly component: MonitorComponent;
  /** Its eventer address, published as `eventer_server_address`. */
  readonly address: string;
  /** How many times its eventer listener came up. */
  readonly starts: number;
  /** performance.now() when its eventer listener last came up. */
  readonly listeningAt: number | null;
  close(): Promise<void>;
}

export interface EventServerMemberOptions {
  /** Listen this long after the blessing (Hat listens up to 0.5 s after its echo, [Q12]). */
  listenDelayMs?: number;
  /** Published instead of `{server_id, eventer_server_address}`. */
  data?: JsonValue;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export async function startEventServerMember(monitorAddress: string, serverId: number, opts: EventServerMemberOptions = {}): Promise<EventServerMember> {
  const address = `tcp+sbs://127.0.0.1:${await freePort()}`;
  const backend = await createMemoryBackend();
  let starts = 0;
  let listeningAt: number | null = null;
  const run: ComponentRun = async ({ signal }) => {
    const engine = await createEngine({ server_id: serverId, modules: [] }, backend);
    if (opts.listenDelayMs) await new Promise((resolve) => setTimeout(resolve, opts.listenDelayMs));
    const server = await createEventerServer(engine, address);
    starts++;
    listeningAt = performance.now();
    await untilAborted(signal);
    await server.close();
    await engine.close();
  };
  const client = await connectMonitorClient({ name: `event-${serverId}`, group: 'event', monitor_address: monitorAddress }, {
    ready: true, data: opts.data ?? { server_id: serverId, eventer_server_address: address },
  });
  const component = createMonitorComponent(client, run);
  return {
    client, component, address,
    get starts() {
      return starts;
    },
    get listeningAt() {
      return listeningAt;
    },
    async close() {
      await client.close();
      await backend.close();
    },
  };
}
