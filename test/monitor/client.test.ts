// The Monitor client on its own (docs/protocol.md, "The client"): configuration and data checks, the list and
// own entry, change notifications, and closing on what a monitor server must not send.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/chatter/framing.ts';
import type { SbsWriter } from '../../src/sbs/writer.ts';
import { EVENTER_MODULE } from '../../src/sbs/eventer-messages.ts';
import { MONITOR_MODULE, MonitorMsg, writeMsgServer } from '../../src/sbs/monitor-messages.ts';
import { connectMonitorClient, type MonitorClient } from '../../src/monitor/client.ts';
import { isActive } from '../../src/monitor/component-info.ts';
import { monitorsAfterEach, until } from './helpers.ts';
import { rawListen } from './replay-helpers.ts';

const setup = monitorsAfterEach();

describe('connectMonitorClient', () => {
  it('names the configuration key that is wrong, before connecting', async () => {
    await expect(connectMonitorClient({ name: 'a', group: 'g' } as never)).rejects.toThrow(/monitor\.monitor_address must be a string, got nothing/);
    await expect(connectMonitorClient({ name: 1, group: 'g', monitor_address: 'tcp+sbs://127.0.0.1:1' } as never)).rejects.toThrow(/monitor\.name/);
    await expect(connectMonitorClient({ name: 'a', group: 'g', monitor_address: 'http://x:1' })).rejects.toThrow(/scheme must be tcp\+sbs/);
  });

  it('refuses data that JSON cannot carry', async () => {
    await expect(connectMonitorClient({ name: 'a', group: 'g', monitor_address: 'tcp+sbs://127.0.0.1:1' }, { data: { x: Number.NaN } }))
      .rejects.toThrow(/NaN/);
  });

  it('fails when no monitor listens (the caller decides whether to retry)', async () => {
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as net.AddressInfo;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    await expect(connectMonitorClient({ name: 'a', group: 'g', monitor_address: `tcp+sbs://127.0.0.1:${port}` })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('MonitorClient', () => {
  it('keeps the global list with parsed data, its own ids and entry, and tells listeners of changes only', async () => {
    const monitor = await setup.standIn();
    const a = await setup.client(monitor.address, 'a', 'g', { data: { server_id: 1, label: 'žaba' } });
    await until(() => a.info !== null);
    expect(a.cid).toBe(0);
    expect(a.mid).toBe(0);
    expect(a.info).toMatchObject({ name: 'a', group: 'g', data: { server_id: 1, label: 'žaba' }, rank: 1 });
    expect(isActive(a.info!)).toBe(false);

    let changes = 0;
    a.onChange(() => changes++);
    const b = await setup.client(monitor.address, 'b', 'h');
    await until(() => a.components.length === 2);
    expect(a.components.map((c) => [c.name, c.data])).toEqual([['a', { server_id: 1, label: 'žaba' }], ['b', null]]);
    expect(changes).toBe(1);

    b.setBlessingRes({ token: null, ready: false }); // unchanged: nothing is sent, nothing changes
    a.setBlessingRes({ token: null, ready: true }); // ready without a Component: the master grants, nobody echoes
    await until(() => a.info?.blessingReq.token === 1);
    expect(isActive(a.info!)).toBe(false);
    expect(changes).toBe(2); // the ready flag and the grant arrived in one MsgServer
  });

  it('is closed, with the reason, when the monitor sends what it must not', async () => {
    const cases: [RegExp, (w: SbsWriter) => void, string, string][] = [
      // Outside hat-monitor's repository: the chatter connection refuses it, as Hat's does.
      [/unknown SBS type HatEventer.MsgNotify/, () => undefined, EVENTER_MODULE, 'MsgNotify'],
      // A monitor message only a client sends: the client refuses it.
      [/unexpected message HatMonitor.MsgClient/, () => undefined, MONITOR_MODULE, MonitorMsg.client],
      [/bad MsgServer: data of component \(mid 0, cid 0\) is not JSON text: "\{oops"/, (w) => writeMsgServer(w, { cid: 0, mid: 0, components: [{
        cid: 0, mid: 0, name: 'x', group: 'g', data: '{oops', rank: 1,
        blessingReq: { token: null, timestamp: null }, blessingRes: { token: null, ready: false },
      }] }), MONITOR_MODULE, MonitorMsg.server],
      [/bad MsgServer: SBS input truncated/, (w) => w.raw(new Uint8Array([0x80, 0x80, 0x81])), MONITOR_MODULE, MonitorMsg.server],
    ];
    for (const [reason, write, module, type] of cases) {
      const listener = await rawListen();
      const client: MonitorClient = await connectMonitorClient({ name: 'a', group: 'g', monitor_address: listener.address });
      const peer = await listener.accepted;
      peer.socket.write(encodeFrame({ id: 1, first: 1, owner: true, token: true, last: true }, module, type, write));
      await client.closed;
      expect(client.failure?.message).toMatch(reason);
      await peer.ended;
      await listener.close();
    }
  });

  it('runs its closing hooks before the connection closes, in order, whoever closes', async () => {
    const monitor = await setup.standIn();
    const client = await setup.client(monitor.address, 'a', 'g');
    const order: string[] = [];
    client.onClosing(async () => {
      order.push(`first, open=${monitor.connectionCount}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    client.onClosing(async () => {
      order.push('second');
      throw new Error('a hook that fails does not stop the close');
    });
    await client.close();
    await until(() => monitor.connectionCount === 0);
    expect(order).toEqual(['first, open=1', 'second']);
    expect(client.failure).toBeUndefined();
  });
});
