// The session reservation: durable before ids reach the backend, above the backend's last id
// after a crash, exact after a clean stop.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createMemoryBackend } from '../../src/backends/memory.ts';
import type { Backend } from '../../src/backends/backend.ts';
import type { Event } from '../../src/common/types.ts';
import { captureLogger } from '../helpers/logger.ts';
import {
  INSTANCE_BLOCK, readReservation, ReservingBackend, SESSION_BLOCK,
} from '../../src/backends/session-reservation.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function reservationFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hat-event-ts-res-'));
  dirs.push(dir);
  return path.join(dir, 'events.db-reservation.json');
}

const event = (session: number, instance: number, server = 1): Event => ({
  id: { server, session, instance }, type: ['t'], timestamp: { s: session, us: 0 }, sourceTimestamp: null, payload: null,
});

describe('ReservingBackend', () => {
  it('persists a reservation covering the ids before they reach the backend', async () => {
    const file = await reservationFile();
    const inner = await createMemoryBackend();
    const seen: (Awaited<ReturnType<typeof readReservation>>)[] = [];
    const spy: Backend = {
      ...inner,
      getLastEventId: (s) => inner.getLastEventId(s),
      register: async (events) => {
        seen.push(await readReservation(file, 1));
        return inner.register(events);
      },
    };
    const backend = await ReservingBackend.open(spy, file, 1);
    expect(await backend.getLastEventId(1)).toEqual({ server: 1, session: 0, instance: 0 });
    expect(await backend.register([event(1, 1), event(1, 2)])).toHaveLength(2);
    expect(seen[0]).toEqual({ session: 1 + SESSION_BLOCK, instance: 2 + INSTANCE_BLOCK });
    // other servers' ids (synced events) are not ours to reserve
    await backend.register([event(5_000_000, 5_000_000, 2)]);
    expect(await readReservation(file, 1)).toEqual({ session: 1 + SESSION_BLOCK, instance: 2 + INSTANCE_BLOCK });
  });

  it('starts above the reservation after a crash, and at the exact last id after settle()', async () => {
    const file = await reservationFile();
    const crashed = await ReservingBackend.open(await createMemoryBackend(), file, 1);
    await crashed.register([event(1, 1)]);
    await crashed.register([event(2, 2)]);
    // a "crash": nothing settled, a fresh (empty) backend as after losing unflushed data
    const restarted = await ReservingBackend.open(await createMemoryBackend(), file, 1);
    const last = await restarted.getLastEventId(1);
    expect(last.session).toBeGreaterThan(2);
    expect(last.instance).toBeGreaterThan(2);

    await restarted.register([event(last.session + 1, last.instance + 1)]);
    await restarted.settle();
    expect(await readReservation(file, 1)).toEqual({ session: last.session + 1, instance: last.instance + 1 });
    const again = await ReservingBackend.open(await createMemoryBackend(), file, 1);
    expect(await again.getLastEventId(1)).toEqual({ server: 1, session: last.session + 1, instance: last.instance + 1 });
  });

  it("takes the backend's last id when it is ahead of the file", async () => {
    const file = await reservationFile();
    const inner = await createMemoryBackend();
    await inner.register([event(7, 70)]);
    const backend = await ReservingBackend.open(inner, file, 1);
    expect(await backend.getLastEventId(1)).toEqual({ server: 1, session: 7, instance: 70 });
  });

  it('refuses events it cannot cover while the reservation cannot be written, and recovers', async () => {
    const folder = path.join(path.dirname(await reservationFile()), 'not-yet-a-folder');
    const file = path.join(folder, 'r.json');
    const log = captureLogger();
    const backend = await ReservingBackend.open(await createMemoryBackend(), file, 1, log);
    expect(await backend.register([event(1, 1), event(1, 2)])).toEqual([null, null]);
    expect(await backend.query({})).toEqual([]);
    expect(backend.flushStatus()).toMatchObject({ writable: false, reason: expect.stringMatching(/cannot persist the session reservation/) });
    expect(log.text()).toMatch(/session reservation cannot be written/);
    expect(log.text()).toMatch(/events refused: their ids are not covered/);
    // until the pause is over, refused at once without another write
    expect(await backend.register([event(2, 3)])).toEqual([null]);

    await mkdir(folder);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const [stored] = await backend.register([event(3, 4)]);
    expect(stored?.id).toEqual({ server: 1, session: 3, instance: 4 });
    expect(backend.flushStatus().writable).toBe(true);
    // the reservation covers every id handed to it, the refused ones included
    expect(await readReservation(file, 1)).toEqual({ session: 3 + SESSION_BLOCK, instance: 4 + INSTANCE_BLOCK });
    expect(log.text()).toMatch(/session reservation is written again/);
  });
});
