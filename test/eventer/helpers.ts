// An eventer server on 127.0.0.1 backed by the real engine and memory backend.
import { afterEach } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import { createMemoryBackend } from '../../src/backends/memory.ts';
import { createEventerServer, type EventerServer, type EventerServerOptions } from '../../src/eventer/server.ts';
import { connectEventer, type EventerClient, type EventerClientOptions } from '../../src/eventer/client.ts';
import type { Event, EventPayload } from '../../src/common/types.ts';
import { jsonPayloadText } from '../../src/common/json-payload.ts';
import { recordingLogger } from '../helpers/logger.ts';
export { until } from '../helpers/until.ts';

export interface Running {
  engine: Engine;
  server: EventerServer;
  address: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startServer(opts: EventerServerOptions = {}, address = 'tcp+sbs://127.0.0.1:0'): Promise<Running> {
  const backend = await createMemoryBackend();
  const engine = await createEngine({ server_id: 1, modules: [] }, backend);
  const logs: string[] = [];
  const server = await createEventerServer(engine, address, { logger: recordingLogger(logs), ...opts });
  return {
    engine, server, logs, address: server.addresses[0]!,
    async close() {
      await server.close();
      await engine.close();
      await backend.close();
    },
  };
}

/** Servers and clients a test starts, all closed after it (clients first). */
export function closedAfterEach(): {
  server(opts?: EventerServerOptions): Promise<Running>;
  client(address: string, opts?: EventerClientOptions): Promise<EventerClient>;
} {
  const servers: Running[] = [];
  const clients: EventerClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    async server(opts = {}) {
      const running = await startServer(opts);
      servers.push(running);
      return running;
    },
    async client(address, opts = {}) {
      const client = await connectEventer(address, opts);
      clients.push(client);
      return client;
    },
  };
}

/** A payload as a plain comparable value (JSON as its text). */
export function payloadView(p: EventPayload | null): unknown {
  if (p === null) return null;
  if (p.type === 'json') return { json: jsonPayloadText(p) };
  if (p.type === 'binary') return { binary: Buffer.from(p.data).toString('hex') };
  return { sbs: { ...p.data, data: Buffer.from(p.data.data).toString('hex') } };
}

export const typesOf = (events: Event[]): string[] => events.map((e) => e.type.join('/'));

