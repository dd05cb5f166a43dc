// Opening chatter connections: `connect` for clients, `listen` for servers (plain TCP or TLS).
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { ChatterConnection, type ConnectionOptions } from './connection.ts';
import { formatAddress, parseAddress } from './address.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';

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

/** A Resource: closing it stops listening and closes every connection it accepted. */
export interface ChatterServer extends Resource {
  /** Bound addresses, with the real port when 0 was asked for. */
  readonly addresses: string[];
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
  return new Listener([formatAddress(addr.protocol, bound.address, bound.port)], server, connections);
}

class Listener extends ResourceBase implements ChatterServer {
  readonly addresses: string[];
  readonly #server: net.Server;
  readonly #connections: Set<ChatterConnection>;

  constructor(addresses: string[], server: net.Server, connections: Set<ChatterConnection>) {
    super();
    this.addresses = addresses;
    this.#server = server;
    this.#connections = connections;
  }

  protected override async teardown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all([...this.#connections].map((c) => c.close()));
    await stopped;
  }
}
