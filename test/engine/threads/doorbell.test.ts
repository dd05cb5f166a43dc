// The doorbell (src/engine/threads/doorbell.ts) between the main thread and a real worker thread: a request
// rung while the thread watches arrives exactly once, one rung while it does not is refused (the
// engine then posts a message), and a thread only watches when allowed and while requests come quickly.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Doorbell, RequestKind } from '../../../src/engine/threads/doorbell.ts';
import type { BellRequest } from '../../../src/engine/threads/doorbell.ts';
import { fixtures } from '../helpers.ts';

type Report = { watching?: true; gaveUp?: true; refused?: true; done?: true; request?: BellRequest };

let thread: Worker | null = null;
afterEach(async () => {
  await thread?.terminate();
  thread = null;
});

function start(bell: Doorbell, times: number, opts: { mayWatch?: boolean; announce?: boolean } = {}) {
  const reports: Report[] = [];
  const waiters: ((r: Report) => void)[] = [];
  thread = new Worker(path.join(fixtures, 'doorbell-thread.mjs'), {
    workerData: { buffer: bell.buffer, times, mayWatch: opts.mayWatch ?? true, announce: opts.announce ?? false },
  });
  thread.on('message', (r: Report) => {
    reports.push(r);
    for (const w of waiters.splice(0)) w(r);
  });
  const next = (accept: (r: Report) => boolean) =>
    new Promise<Report>((resolve) => {
      const found = reports.find(accept);
      if (found) return resolve(found);
      const wait = (r: Report) => (accept(r) ? resolve(r) : waiters.push(wait));
      waiters.push(wait);
    });
  return { reports, next };
}

describe('doorbell', () => {
  it('a request rung while the thread watches reaches it, session ids beyond 32 bits intact', async () => {
    const bell = new Doorbell();
    const { next } = start(bell, 100000);
    // The thread watches again and again; ring until one watch takes it.
    while (!bell.ring(RequestKind.Round, 2 ** 40 + 5, 1234)) await new Promise((resolve) => setImmediate(resolve));
    const { request } = await next((r) => r.request !== undefined);
    expect(request).toEqual({ kind: RequestKind.Round, session: 2 ** 40 + 5, length: 1234 });
  });

  it('once the thread gives up watching, ringing is refused', async () => {
    const bell = new Doorbell();
    const { next } = start(bell, 1, { announce: true });
    await next((r) => r.gaveUp === true);
    expect(bell.ring(RequestKind.Stop, 7, 0)).toBe(false);
  });

  it('a thread that may not watch never does, and ringing it is refused', async () => {
    const bell = new Doorbell();
    const { next, reports } = start(bell, 3, { mayWatch: false });
    await next((r) => r.done === true);
    expect(reports.filter((r) => r.refused)).toHaveLength(3);
    expect(bell.ring(RequestKind.Round, 1, 10)).toBe(false);
  });

  it('every ring that is accepted arrives exactly once, however it races the watch ending', async () => {
    const bell = new Doorbell();
    const { reports, next } = start(bell, 3000);
    const accepted: number[] = [];
    let session = 0;
    let done = false;
    void next((r) => r.done === true).then(() => (done = true));
    while (!done) {
      session++;
      if (bell.ring(RequestKind.Round, session, session % 1000)) accepted.push(session);
      // Ring at uneven moments: sometimes at once, sometimes after the thread may have given up.
      if (session % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
      else if (session % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 0.3));
    }
    const received = reports.flatMap((r) => (r.request ? [r.request.session] : []));
    expect(received).toEqual(accepted);
    expect(accepted.length).toBeGreaterThan(0);
    for (const r of reports) if (r.request) expect(r.request.length).toBe(r.request.session % 1000);
  });

  it('watches only while requests come quickly', () => {
    const bell = new Doorbell(undefined, true);
    expect(bell.willWatch()).toBe(true);
    bell.watch(); // nobody rings: gives up after the watch
    for (let i = 0; i < 5; i++) bell.noteWait(50); // slow requests
    expect(bell.willWatch()).toBe(false);
    for (let i = 0; i < 5; i++) bell.noteWait(0.01); // quick again
    expect(bell.willWatch()).toBe(true);
  });
});
