// Opening chatter connections: `connect` for clients, `listen` for servers (plain TCP or TLS).
// A listener admits connections (admission.ts) and gives them its shared memory ceilings (budget.ts).
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ChatterConnection, type ConnectionOptions } from './connection.ts';
import { formatAddress, parseAddress } from './address.ts';
import { clientTlsOptions, serverTlsOptions, type TlsOptions } from './tls-options.ts';
import { Admission, type AdmissionOptions } from './admission.ts';
import { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OUTPUT_BYTES, SharedBudget } from './budget.ts';
import { silentLogger } from '../common/logger.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';

export interface TransportOptions extends ConnectionOptions, TlsOptions {}

export interface ListenOptions extends TransportOptions, AdmissionOptions {
  /** bytes received and not yet handled, all connections together; default 256 MiB */
  maxInputBytes?: number;
  /** bytes queued for clients that read slowly, all connections together; default 256 MiB */
  maxOutputBytes?: number;
}

export async function connect(address: string, opts: TransportOptions = {}): Promise<ChatterConnection> {
  const addr = parseAddress(address);
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    // Like the reference, no certificate is checked unless a caFile is given (tls-options.ts).
    const s = addr.protocol === 'ssl'
      ? tls.connect(clientTlsOptions(opts, addr.host, addr.port), () => done())
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
  opts: ListenOptions = {},
): Promise<ChatterServer> {
  const addr = parseAddress(address);
  // refused connections, failed accepts and failed TLS handshakes are logged here, as close reasons are
  const logger = opts.logger ?? silentLogger();
  const admission = new Admission(opts, logger);
  const connectionOptions: ConnectionOptions = {
    ...opts,
    inputBudget: opts.inputBudget ?? new SharedBudget('max_input_bytes', opts.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES),
    outputBudget: opts.outputBudget ?? new SharedBudget('max_output_bytes', opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES),
  };
  const connections = new Set<ChatterConnection>();
  const accept = (socket: net.Socket): void => {
    const conn = new ChatterConnection(socket, addr.protocol, connectionOptions);
    connections.add(conn);
    conn.onClose(() => connections.delete(conn));
    onConnection(conn);
  };
  let server: net.Server;
  if (addr.protocol === 'ssl') {
    server = tls.createServer(serverTlsOptions(opts), accept);
    // Counted from the TCP accept, before the handshake (which may never end).
    server.prependListener('connection', (socket: net.Socket) => void admission.admit(socket));
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      // A certificate that does not chain to ca_file is refused after the handshake, as a reset with
      // the reason on the socket; a reset without one is a socket gone early (refused above, or left).
      const reason = socket.authorizationError ?? (err.code === 'ECONNRESET' ? null : err.message);
      if (reason !== null) logger.warning('TLS handshake failed', { remote: socket.remoteAddress, reason: String(reason) });
    });
  } else {
    server = net.createServer((socket) => {
      if (admission.admit(socket)) accept(socket);
    });
  }
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => {
      server.close();
      reject(err);
    };
    server.once('error', fail);
    server.listen(addr.port, addr.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  admission.watch(server);
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
