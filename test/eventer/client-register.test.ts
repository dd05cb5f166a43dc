// The client's register path as a load generator uses it: a request encoded once registers the
// same events every time it is sent, and register() waits while the socket's send buffer is
// full, so a sender that awaits it never outruns a peer that stopped reading.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { connectEventer, EncodedRegisterRequest, type EventerClient } from '../../src/eventer/client.ts';
import { EncodedRegisterRequest as FromRoot } from '../../src/index.ts';
import type { RegisterEvent } from '../../src/common/types.ts';
import { closedAfterEach } from './helpers.ts';

const closed = closedAfterEach();

const events: RegisterEvent[] = [
  { type: ['a', '1'], sourceTimestamp: { s: 5, us: 6 }, payload: { type: 'json', data: { x: [1, 'y'] } } },
  { type: ['a', '2'], sourceTimestamp: null, payload: { type: 'binary', data: Uint8Array.of(1, 2) } },
];
const content = (e: RegisterEvent) => [e.type, e.sourceTimestamp, JSON.stringify(e.payload)];

describe('EncodedRegisterRequest', () => {
  it('registers the same events as the plain form, each time it is sent, with or without response', async () => {
    expect(FromRoot).toBe(EncodedRegisterRequest);
    const running = await closed.server();
    const client = await closed.client(running.address);
    const encoded = new EncodedRegisterRequest(events);
    expect(encoded.count).toBe(2);
    const plain = await client.registerWithResponse(events);
    const first = await client.registerWithResponse(encoded);
    await client.register(encoded);
    const second = await client.registerWithResponse(encoded);
    expect([plain, first, second].map((r) => r.map((e) => content(e!)))).toEqual([events.map(content), events.map(content), events.map(content)]);
    const stored = await client.query({ types: [['a', '*']], order: 'ascending' });
    expect(stored.map(content)).toEqual([...events, ...events, ...events, ...events].map(content));
    expect(stored.map((e) => e.id.session)).toEqual([...new Set(stored.map((e) => e.id.session))].flatMap((s) => [s, s]));
  });
});

describe('register() and a peer that does not read', () => {
  const sockets: net.Socket[] = [];
  const servers: net.Server[] = [];
  const clients: EventerClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('waits while the send buffer is full and goes on once the peer reads again', async () => {
    const server = net.createServer((socket) => {
      socket.pause();
      sockets.push(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await connectEventer(`tcp+sbs://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { pingTimeout: 0 });
    clients.push(client);
    const big = new EncodedRegisterRequest([{ type: ['big'], sourceTimestamp: null, payload: { type: 'binary', data: new Uint8Array(64 * 1024) } }]);

    let sent = 0;
    let stalled: Promise<void> | null = null;
    const sendUntilStalled = async (): Promise<void> => {
      for (;;) {
        const pending = client.register(big);
        const waited = await Promise.race([pending.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 300))]);
        sent += 1;
        if (waited) {
          stalled = pending;
          return;
        }
        if (sent > 20_000) throw new Error('register never waited');
      }
    };
    await sendUntilStalled();
    // Stalled after the kernel's buffers filled: megabytes, not the 128 MiB that would abort.
    expect(sent * 64 * 1024).toBeLessThan(64 * 1024 * 1024);
    let resolved = false;
    void stalled!.then(() => (resolved = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(resolved).toBe(false);
    for (const socket of sockets) socket.resume();
    await stalled!;
    expect(resolved).toBe(true);
  });
});
