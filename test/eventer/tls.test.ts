// ssl+sbs: the same protocol over TLS, with a self-signed certificate made for the test (the
// reference client does not verify the peer, and neither does ours).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectEventer } from '../../src/eventer/client.ts';
import { startServer, typesOf, type Running } from './helpers.ts';

let dir: string;
let pemFile: string;
let running: Running;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hat-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], {
    stdio: 'ignore',
  });
  pemFile = path.join(dir, 'server.pem');
  writeFileSync(pemFile, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'));
  running = await startServer({ pemFile }, 'ssl+sbs://127.0.0.1:0');
});

afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('eventer over ssl+sbs', () => {
  it('binds an ssl+sbs address and serves register, notify and query over TLS', async () => {
    expect(running.address).toMatch(/^ssl\+sbs:\/\/127\.0\.0\.1:\d+$/);
    const client = await connectEventer(running.address, { subscriptions: [['tls', '*']] });
    try {
      const [registered] = await client.registerWithResponse([{ type: ['tls', 'a'], sourceTimestamp: null, payload: { type: 'json', data: 1 } }]);
      expect(registered?.type).toEqual(['tls', 'a']);
      expect(typesOf(await client.receive())).toEqual(['tls/a']);
      const found = await client.query({ types: [['tls', '*']] });
      expect(found.map((e) => e.id)).toEqual([registered!.id]);
    } finally {
      await client.close();
    }
  });

  it('a plain TCP client cannot talk to the TLS listener (fails, does not hang)', async () => {
    const plain = running.address.replace('ssl+sbs', 'tcp+sbs');
    const outcome = await connectEventer(plain)
      .then((client) => client.registerWithResponse([{ type: ['x'], sourceTimestamp: null, payload: null }]).finally(() => client.close()))
      .then(
        () => 'worked',
        () => 'failed',
      );
    expect(outcome).toBe('failed');
  });
});
