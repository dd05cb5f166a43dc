// A Syncer client that does not keep up (its storage is held back): during its backlog the server
// waits for it; once it is live its send buffer is bounded like an eventer subscriber's, past
// which the server drops it with a logged reason, and it catches up from its last id on reconnect.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.ts';
import type { RegisterEvent } from '../../src/common/types.ts';
import { counting, flushedEvents, forms, gated, logLines, peerOf, startNode, until, untilCaughtUp, type Node } from './helpers.ts';

const KIB = 1024;

/** Sessions of `count` events with 1 KiB payloads. */
function bulky(session: number, count: number): RegisterEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    type: ['bulk', String(session), String(i)],
    sourceTimestamp: { s: 1_600_000_000 + session, us: i },
    payload: { type: 'binary', data: new Uint8Array(KIB).fill((session + i) & 255) },
  }));
}

/** B syncing from A through a register that waits until `open()`, counting what it receives. */
async function slowB(a: Node, received: Map<number, number>): Promise<{ b: Node; open(): void }> {
  let gate!: { backend: Backend; open(): void };
  const b = await startNode({
    serverId: 2, peers: [peerOf(a)], client: { maxUnreadBytes: 16 * KIB },
    clientBackend: (backend) => (gate = gated(counting(backend, received))).backend,
  });
  return { b, open: () => gate.open() };
}

async function expectSame(a: Node, b: Node, received: Map<number, number>): Promise<void> {
  await untilCaughtUp(a, b);
  await b.backend.flush();
  const onA = await flushedEvents(a.backend, 1);
  expect(forms(await flushedEvents(b.backend, 1))).toEqual(forms(onA));
  expect(received.get(1)).toBe(onA.length); // each event over the wire once
}

const dropped = (a: Node): string[] => logLines(a.log.lines).filter((l) => l.includes('exceeds the limit'));
const connects = (a: Node): number => a.log.lines.filter((e) => e.message === 'syncer client connected').length;

describe('slow Syncer client', () => {
  it('live: dropped past the send bound with a logged reason, then catches up from its last id', { timeout: 60_000 }, async () => {
    const a = await startNode({ serverId: 1, server: { maxSendQueue: 64 * KIB } });
    const received = new Map<number, number>();
    const { b, open } = await slowB(a, received);
    await until(() => a.server.clients[0]?.synced === true);
    // Live sessions until the bound is hit (the kernel's socket buffers take some first).
    for (let session = 0; dropped(a).length === 0; session++) {
      expect(session).toBeLessThan(1000);
      await a.engine.register({ type: 'module', id: 1 }, bulky(session, 50));
      await new Promise(setImmediate); // let A's flush timer run
    }
    expect(dropped(a)[0]).toMatch(/send queue of \d+ bytes exceeds the limit of 65536 \(peer not reading\)/);
    open();
    await until(() => connects(a) === 2, 20_000);
    await expectSame(a, b, received);
  });

  it('backlog: the server waits for the client instead of dropping it', { timeout: 60_000 }, async () => {
    const a = await startNode({ serverId: 1, server: { maxSendQueue: 64 * KIB, backlogHighWater: 16 * KIB } });
    for (let session = 0; session < 100; session++) await a.engine.register({ type: 'module', id: 1 }, bulky(session, 50));
    await a.backend.flush();
    const received = new Map<number, number>();
    const { b, open } = await slowB(a, received);
    await new Promise((r) => setTimeout(r, 1000)); // B takes nothing for a second
    open();
    await expectSame(a, b, received);
    expect(dropped(a)).toEqual([]);
    expect(connects(a)).toBe(1);
  });

});
