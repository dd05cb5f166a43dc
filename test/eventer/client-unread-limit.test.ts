// A client whose application does not take its notifications is closed past a bound of unread
// bytes, with a reason that says so; what arrived before stays readable. A client that reads
// keeps going under the same bound.
import { describe, expect, it } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { closedAfterEach, until } from './helpers.ts';

const closed = closedAfterEach();

const LIMIT = 16 * 1024;
const batch = Array.from({ length: 4 }, (_, i) => ({
  type: ['big', String(i)],
  sourceTimestamp: null,
  payload: { type: 'binary' as const, data: new Uint8Array(1024).fill(i) },
}));

/** A server, a client subscribed to ['big', '*'] with the small bound, and a writer. */
async function readerAndWriter(): Promise<{ reader: EventerClient; writer: EventerClient }> {
  const running = await closed.server();
  const reader = await closed.client(running.address, { subscriptions: [['big', '*']], maxUnreadNotificationBytes: LIMIT });
  const writer = await closed.client(running.address);
  await until(() => running.server.connectionCount === 2);
  return { reader, writer };
}

describe('unread notifications', () => {
  it('past the bound the connection closes; what arrived is still read, then the reason', async () => {
    const { reader: slow, writer } = await readerAndWriter();
    let sent = 0;
    let closed = false;
    void slow.closed.then(() => (closed = true));
    while (!closed && sent < 100) {
      await writer.registerWithResponse(batch);
      sent++;
    }
    await slow.closed;
    expect(sent).toBeGreaterThan(3); // ~4.2 KiB per notification: it took several to pass 16 KiB
    expect(sent).toBeLessThan(100);
    const received: number[] = [];
    await expect(
      (async () => {
        for (;;) received.push((await slow.receive()).length);
      })(),
    ).rejects.toThrow(/bytes of notifications not received, past the limit of 16384/);
    expect(received.length).toBeGreaterThan(3);
    expect(received.every((n) => n === 4)).toBe(true);
    // The writer and the server are unaffected.
    expect(await writer.registerWithResponse([{ type: ['after'], sourceTimestamp: null, payload: null }])).toHaveLength(1);
  });

  it('a client that reads stays connected far past the bound in total', async () => {
    const { reader, writer } = await readerAndWriter();
    let got = 0;
    const reading = (async () => {
      for await (const events of reader) {
        got += events.length;
        if (got === 4 * 50) return;
      }
    })();
    for (let i = 0; i < 50; i++) await writer.registerWithResponse(batch); // ~210 KiB in all
    await reading;
    expect(got).toBe(200);
    expect(await reader.query({ types: [['big', '0']], maxResults: 1 })).toHaveLength(1);
  });

  it('a bound that is not positive is refused before connecting', async () => {
    await expect(connectEventer('tcp+sbs://127.0.0.1:1', { maxUnreadNotificationBytes: 0 })).rejects.toThrow(/must be positive/);
  });
});
