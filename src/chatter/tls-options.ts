// TLS for ssl+sbs. Hat checks no certificate on either side, and that stays the default. Beyond
// Hat: a server may require client certificates that chain to a CA (mutual TLS), and a client may
// present a certificate and verify the server's chain, with or without its name (Hat peers are
// usually addressed by IP).
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';

export interface TlsOptions {
  /** PEM file holding a key and its certificate: the server's (required), or the one a client presents */
  pemFile?: string;
  /** PEM CA certificates: a server checks client certificates against them, a client the server's */
  caFile?: string;
  /** server: accept only clients whose certificate chains to `caFile` */
  requireClientCertificate?: boolean;
  /** client with `caFile`: the name or IP the server's certificate must carry; absent: the chain only */
  serverName?: string;
}

export function serverTlsOptions(opts: TlsOptions): tls.TlsOptions {
  if (!opts.pemFile) throw new TypeError('ssl+sbs listening needs a pemFile with key and certificate');
  const pem = readFileSync(opts.pemFile);
  const options: tls.TlsOptions = { key: pem, cert: pem };
  if (opts.requireClientCertificate) {
    if (!opts.caFile) throw new TypeError('requireClientCertificate needs a caFile to check client certificates against');
    Object.assign(options, { ca: readFileSync(opts.caFile), requestCert: true, rejectUnauthorized: true });
  }
  return options;
}

export function clientTlsOptions(opts: TlsOptions, host: string, port: number): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = { host, port, rejectUnauthorized: false };
  if (opts.pemFile) {
    const pem = readFileSync(opts.pemFile);
    Object.assign(options, { key: pem, cert: pem });
  }
  if (opts.caFile) {
    const name = opts.serverName;
    Object.assign(options, {
      ca: readFileSync(opts.caFile),
      rejectUnauthorized: true,
      checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => (name === undefined ? undefined : tls.checkServerIdentity(name, cert)),
    });
  }
  return options;
}
