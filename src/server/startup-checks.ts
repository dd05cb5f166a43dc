// Checks that fail fast with one clear line before anything is opened or written.
import { mkdir } from 'node:fs/promises';
import * as net from 'node:net';
import path from 'node:path';
import { parseAddress } from '../chatter/address.ts';
import { describeError } from '../common/describe-error.ts';

/** A startup failure the CLI reports as one line with exit status 1. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/**
 * Binds and releases the address, so a port in use is found before the database is touched.
 * `where` is the address parsed (default: as an eventer address).
 */
export async function checkPortFree(address: string, where: { host: string; port: number } = parseAddress(address)): Promise<void> {
  const { host, port } = where;
  if (port === 0) return;
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is already in use'
        : err.code === 'EACCES' ? 'permission denied'
        : err.code === 'EADDRNOTAVAIL' ? 'the address is not available on this machine'
        : err.message;
      reject(new StartupError(`cannot listen on ${address}: ${why}`, { cause: err }));
    });
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Creates the database's folder; an unwritable or impossible path is a StartupError. */
export async function prepareDataDir(dbPath: string): Promise<void> {
  const dir = path.dirname(dbPath);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? describeError(err);
    throw new StartupError(`cannot create the data folder ${dir} for ${dbPath}: ${code}`, { cause: err });
  }
}
