// Opening chatter connections: `connect` for clients, `listen` for servers (plain TCP or TLS).
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { ChatterConnection, type ConnectionOptions } from './connection.ts';
import { formatAddress, parseAddress } from './address.ts';

export interface TransportOptions extends ConnectionOptions {
  /** `ssl+sbs` server: PEM file holding the key and the certificate. */
  pemFile?: string;
}

export async function connect(address: string, opts: TransportOptions = {}): Promise<ChatterConnection> {
  const addr = parseAddress(address);
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    // Like the reference: TLS without hostname check or peer verification.
    const s = addr.protocol === 'ssl'
      ? tls.connect({ host: addr.host, port: addr.port, rejectUnauthorized: false }, () => done())
      : net.connect({ host: addr.host, port: addr.port }, () => done());
    const fail = (err: Error): void => reject(err);
    const done = (): void => {
      s.off('error', fail);
      resolve(s);
    };
    s.once('error', fail);
  });
  return new ChatterConnection(socket, addr.protocol, opts);
}

export interface ChatterServer {
  /** Bound addresses, with the real port when 0 was asked for. */
  readonly addresses: string[];
  /** Stops listening and closes every connection it accepted. */
  close(): Promise<void>;
}

export async function listen(
  address: string,
  onConnection: (conn: ChatterConnection) => void,
  opts: TransportOptions = {},
): Promise<ChatterServer> {
  const addr = parseAddress(address);
  const connections = new Set<ChatterConnection>();
  const accept = (socket: net.Socket): void => {
    const conn = new ChatterConnection(socket, addr.protocol, opts);
    connections.add(conn);
    conn.onClose(() => connections.delete(conn));
    onConnection(conn);
  };
  let server: net.Server;
  if (addr.protocol === 'ssl') {
    if (!opts.pemFile) throw new TypeError('ssl+sbs listening needs a pemFile with key and certificate');
    const pem = readFileSync(opts.pemFile);
    server = tls.createServer({ key: pem, cert: pem }, accept);
  } else {
    server = net.createServer(accept);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    addresses: [formatAddress(addr.protocol, bound.address, bound.port)],
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.close()));
        await stopped;
      })();
      return closing;
    },
  };
}
