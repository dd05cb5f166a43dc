// B is killed (SIGKILL) in the middle of its backlog and started again on the same LMDB file: it
// asks again from what it made durable, so it ends with exactly A's events, and after the restart
// nothing it already held comes over the wire again.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openLmdbBackend } from '../../src/backends/lmdb/backend.ts';
import { counting, flushedEvents, forms, startNode, startProxy, tempDbPath, until, untilCaughtUp, type Node } from './helpers.ts';
import { lmdbConf } from './lmdb-conf.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs the syncing child until it made `sessions` sessions of server 1 durable, then SIGKILLs it. */
function runAndKill(dbPath: string, peer: string, sessions: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/syncing-child.ts'), dbPath, peer], {
      cwd: path.resolve(here, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let flushed = 0;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      flushed += chunk.toString().split('\n').filter((l) => l.startsWith('flushed ')).length;
      if (flushed >= sessions && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
}

async function heldOnDisk(dbPath: string): Promise<number> {
  const backend = await openLmdbBackend(lmdbConf(dbPath, 3600), { cleanup: false });
  try {
    return (await flushedEvents(backend, 1)).length;
  } finally {
    await backend.close();
  }
}

describe('B killed mid-backlog', () => {
  it('restarts on the same file with no gap and no duplicate', { timeout: 60_000 }, async () => {
    const a: Node = await startNode({ serverId: 1 });
    for (let s = 0; s < 400; s++) {
      await a.engine.register({ type: 'module', id: 1 }, Array.from({ length: 20 }, (_, i) => ({
        type: ['crash', String(s), String(i)], sourceTimestamp: null, payload: { type: 'binary', data: new Uint8Array(300).fill(i) },
      })));
    }
    await a.backend.flush();
    const total = (await flushedEvents(a.backend, 1)).length;

    // Through a proxy that stops passing A's bytes after about 40% of the backlog, so the kill (once
    // 30 sessions are durable) surely comes mid-backlog however fast the machine is.
    const proxy = await startProxy(a.address, { stallAfter: 1_000_000 });
    const dbPath = tempDbPath();
    await runAndKill(dbPath, proxy.address, 30);
    // The stalled proxy would keep the dead child's connection open on A: its close, and the
    // status event A registers for it, would then race with B's catch-up below.
    await proxy.close();
    await until(() => a.server.clients.length === 0, 10_000, 'A without the killed client');
    const held = await heldOnDisk(dbPath);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(total); // killed mid-backlog

    const received = new Map<number, number>();
    const b = await startNode({ serverId: 2, dbPath, peers: [{ serverId: 1, address: a.address }], clientBackend: (x) => counting(x, received) });
    await untilCaughtUp(a, b);
    await b.backend.flush();
    const onA = await flushedEvents(a.backend, 1);
    expect(forms(await flushedEvents(b.backend, 1))).toEqual(forms(onA));
    expect(received.get(1)).toBe(onA.length - held);
  });
});
