// The eventer follower (docs/protocol.md, "Following the active event server") against real eventer servers (engine + memory
// backend on 127.0.0.1) that run only while their monitor Component is blessed, and the monitor
// stand-in: it follows switchovers, tells the application, and lets a server that is no longer
// active go ([Q13]).
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventerFollower, type ActiveServer, type EventerFollower } from '../../src/eventer/follower.ts';
import type { EventerClient } from '../../src/eventer/client.ts';
import { monitorsAfterEach, until } from '../monitor/helpers.ts';
import { recordingLogger } from '../helpers/logger.ts';

const setup = monitorsAfterEach();
const followers: EventerFollower[] = [];
afterEach(async () => {
  await Promise.all(followers.splice(0).map((f) => f.close()));
});

async function follow(monitorAddress: string, reconnectDelay = 0.1): Promise<{
  follower: EventerFollower; seen: string[]; logs: string[];
}> {
  const app = await setup.client(monitorAddress, 'app', 'apps');
  const logs: string[] = [];
  const follower = createEventerFollower(app, { serverGroup: 'event', reconnectDelay, subscriptions: [['x', '*']], logger: recordingLogger(logs) });
  followers.push(follower);
  const seen: string[] = [];
  follower.onConnected((_client: EventerClient, server: ActiveServer) => seen.push(`connected ${server.serverId}`));
  follower.onDisconnected((server) => seen.push(`disconnected ${server.serverId}`));
  return { follower, seen, logs };
}

const registerOn = async (client: EventerClient, type: string): Promise<number> => {
  const [event] = await client.registerWithResponse([{ type: ['x', type], sourceTimestamp: null, payload: null }]);
  return event!.id.server;
};

describe('eventer follower', () => {
  it('follows two switchovers, re-subscribes on each connection and tells the application', async () => {
    const monitor = await setup.standIn();
    const one = await setup.eventServer(monitor.address, 1);
    await until(() => one.component.state === 'running');
    const two = await setup.eventServer(monitor.address, 2);
    const { follower, seen } = await follow(monitor.address);

    expect(await registerOn(await follower.connection(), 'a')).toBe(1);
    expect(follower.activeServer).toMatchObject({ serverId: 1, address: one.address });

    one.component.setReady(false); // loses the blessing: its eventer server closes, then server 2 takes over
    await until(() => seen.length === 3);
    expect(seen).toEqual(['connected 1', 'disconnected 1', 'connected 2']);
    const onTwo = await follower.connection();
    expect(await registerOn(onTwo, 'b')).toBe(2);

    // The subscription was sent again on the new connection: a notification from another client arrives.
    const other = await follower.connection();
    const notified = onTwo.receive();
    const [, registered] = await Promise.all([notified, registerOn(other, 'c')]);
    expect(registered).toBe(2);
    expect((await notified).map((e) => e.type)).toEqual([['x', 'b']]);

    one.component.setReady(true);
    two.component.setReady(false);
    await until(() => seen.length === 5);
    expect(seen).toEqual(['connected 1', 'disconnected 1', 'connected 2', 'disconnected 2', 'connected 1']);
    expect(await registerOn(await follower.connection(), 'd')).toBe(1);
    expect(one.starts).toBe(2);
  });

  it('reconnects to the same server when only the connection dropped, and when the active one is killed moves on', async () => {
    const monitor = await setup.standIn();
    const one = await setup.eventServer(monitor.address, 1);
    await until(() => one.component.state === 'running');
    const two = await setup.eventServer(monitor.address, 2);
    const { follower, seen } = await follow(monitor.address);
    await (await follower.connection()).close();
    await until(() => seen.length === 3);
    expect(seen).toEqual(['connected 1', 'disconnected 1', 'connected 1']);

    monitor.drop(Number(one.client.cid)); // as when its process is killed: the monitor sees the socket close
    await until(() => seen.length === 5);
    expect(seen.slice(3)).toEqual(['disconnected 1', 'connected 2']);
    expect(await registerOn(await follower.connection(), 'a')).toBe(2);
    expect(two.starts).toBe(1);
  });

  it('[Q13] with no active server it holds no connection and never tries the old address', async () => {
    const monitor = await setup.standIn();
    const one = await setup.eventServer(monitor.address, 1);
    const { follower, seen, logs } = await follow(monitor.address, 0.05);
    await follower.connection();

    await one.component.close(); // stops and releases as not ready: nobody is active
    await until(() => follower.activeServer === null);
    // Whatever listens on the old address now would see Hat's client come back every reconnect delay.
    let attempts = 0;
    const port = Number(new URL(one.address).port);
    const decoy = net.createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => decoy.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500)); // ten reconnect delays
    await new Promise<void>((resolve) => decoy.close(() => resolve()));
    expect(attempts).toBe(0);
    expect(follower.client).toBeNull();
    expect(seen).toEqual(['connected 1', 'disconnected 1']);
    expect(logs.join('\n')).toMatch(/no active event server: waiting/);

    const again = await setup.eventServer(monitor.address, 3); // a new announcement is followed at once
    await until(() => seen.length === 3);
    expect(await registerOn(await follower.connection(), 'e')).toBe(3);
    expect(again.starts).toBe(1);
  });

  it('[Q12] retries an active server that does not listen yet, and connects once it does', async () => {
    const monitor = await setup.standIn();
    const { follower, seen, logs } = await follow(monitor.address, 0.05);
    const one = await setup.eventServer(monitor.address, 1, { listenDelayMs: 300 });
    const client = await follower.connection();
    expect(await registerOn(client, 'a')).toBe(1);
    expect(seen).toEqual(['connected 1']);
    expect(logs.filter((l) => l.startsWith('warning: cannot reach the active event server'))).toHaveLength(1);
    expect(one.starts).toBe(1);
  });

  it('[Q14] takes the first active server in list order, skipping one whose data is unusable', async () => {
    const monitor = await setup.standIn({ groupAlgorithms: { event: 'BLESS_ALL' } });
    await setup.eventServer(monitor.address, 1, { data: 'not an object' });
    const two = await setup.eventServer(monitor.address, 2);
    const three = await setup.eventServer(monitor.address, 3);
    await until(() => two.component.state === 'running' && three.component.state === 'running');
    const { follower, logs } = await follow(monitor.address);
    expect(await registerOn(await follower.connection(), 'a')).toBe(2);
    expect(logs.filter((l) => l.includes('unusable monitor data'))).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/data is not an object/);
  });

  it('closes with its monitor client, and then refuses to wait for a connection', async () => {
    const monitor = await setup.standIn();
    const app = await setup.client(monitor.address, 'app', 'apps');
    const follower = createEventerFollower(app, { serverGroup: 'event' });
    const waiting = follower.connection(); // nobody is active: it waits
    await monitor.kill();
    await follower.closed;
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(follower.connection()).rejects.toThrow(/closed/);
    expect(follower.failure?.message).toMatch(/the monitor client closed: monitor connection lost/);
    expect(() => createEventerFollower(app, { serverGroup: 'event', reconnectDelay: -1 })).toThrow(/reconnectDelay/);
  });
});
