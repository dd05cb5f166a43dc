// Mutual TLS on ssl+sbs (beyond Hat, off by default): a server with requireClientCertificate
// accepts only clients whose certificate chains to its caFile; a client can present a certificate
// and verify the server's chain, with or without its name. Certificates are made by openssl here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectEventer, type EventerClientOptions } from '../../src/eventer/client.ts';
import { startServer, type Running } from './helpers.ts';

let dir: string;
let running: Running;
const file = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A key and a certificate signed by `ca` (or self-signed), written as one PEM file `name`.pem. */
function certificate(name: string, ca: string | null, altNames?: string): void {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file(`${name}.key`)];
  if (ca === null) {
    openssl('req', '-x509', ...key, '-out', file(`${name}.crt`), '-days', '1', '-subj', `/CN=${name}`);
  } else {
    openssl('req', ...key, '-out', file(`${name}.csr`), '-subj', `/CN=${name}`);
    const ext = file(`${name}.ext`);
    writeFileSync(ext, altNames ? `subjectAltName=${altNames}\n` : 'basicConstraints=CA:FALSE\n');
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`),
      '-CAcreateserial', '-out', file(`${name}.crt`), '-days', '1', '-extfile', ext);
  }
  writeFileSync(file(`${name}.pem`), readFileSync(file(`${name}.key`), 'utf8') + readFileSync(file(`${name}.crt`), 'utf8'));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hat-mtls-'));
  certificate('ca', null);
  certificate('other-ca', null);
  certificate('server', 'ca', 'IP:127.0.0.1,DNS:event-server');
  certificate('client', 'ca');
  certificate('rogue', 'other-ca');
  running = await startServer(
    { pemFile: file('server.pem'), caFile: file('ca.crt'), requireClientCertificate: true },
    'ssl+sbs://127.0.0.1:0',
  );
});

afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** 'ok' when a register round trip works, else 'refused' (TLS 1.3 may refuse after the client's handshake). */
async function attempt(opts: EventerClientOptions): Promise<string> {
  try {
    const client = await connectEventer(running.address, opts);
    try {
      const [event] = await client.registerWithResponse([{ type: ['mtls'], sourceTimestamp: null, payload: null }]);
      return event ? 'ok' : 'null';
    } finally {
      await client.close();
    }
  } catch {
    return 'refused';
  }
}

describe('mutual TLS', () => {
  it('a client with a certificate from the CA is served, verifying the server chain and name', async () => {
    expect(await attempt({ pemFile: file('client.pem'), caFile: file('ca.crt') })).toBe('ok');
    expect(await attempt({ pemFile: file('client.pem'), caFile: file('ca.crt'), serverName: 'event-server' })).toBe('ok');
    expect(await attempt({ pemFile: file('client.pem'), caFile: file('ca.crt'), serverName: '127.0.0.1' })).toBe('ok');
  });

  it('clients without a certificate, or with one from another CA, are refused, and the server says why', async () => {
    expect(await attempt({})).toBe('refused');
    expect(await attempt({ pemFile: file('rogue.pem') })).toBe('refused');
    const failures = running.logs.filter((l) => l.startsWith('warning: TLS handshake failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/peer did not return a certificate/);
    expect(failures[1]).toMatch(/"reason":"UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE)/);
    expect((await running.engine.query({ types: [['mtls']] })).length).toBeGreaterThan(0);
  });

  it('a client checking the server refuses a server its CA did not sign, or with another name', async () => {
    expect(await attempt({ pemFile: file('client.pem'), caFile: file('other-ca.crt') })).toBe('refused');
    expect(await attempt({ pemFile: file('client.pem'), caFile: file('ca.crt'), serverName: 'elsewhere' })).toBe('refused');
  });
});
