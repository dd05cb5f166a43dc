// Who may hold a connection: at most `maxConnections` at once, only from `allowedClients` address
// prefixes when given. A socket past either rule is closed at once with a log line. Out of file
// descriptors, libuv accepts and closes new connections itself, silently (its EMFILE trick), so
// the open files are counted as connections are admitted and running out is logged; an accept
// error that does reach the listener is logged too, and serving goes on.
import { readdirSync, readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import type { Logger } from '../common/logger.ts';

export const DEFAULT_MAX_CONNECTIONS = 1000;

/** Descriptors kept for everything but client sockets (database, threads, logs, stdio). */
const RESERVED_FILE_DESCRIPTORS = 64;
/** Free descriptors at which running out is reported. */
const FILES_MARGIN = 16;

export interface AdmissionOptions {
  /** open connections at most; default 1000, lowered to fit the process's open-files limit */
  maxConnections?: number;
  /** address prefixes ('10.0.', '127.0.0.1', '::1'); absent or empty: everyone */
  allowedClients?: string[];
}

export class Admission {
  readonly maxConnections: number;
  readonly #allowed: readonly string[];
  readonly #open = new Set<Socket>();
  readonly #log: Logger;
  readonly #filesLimit: number | null;
  /** Open connections at which the open files are counted again (halving the distance to the limit). */
  #nextFilesCheck = 0;

  constructor(opts: AdmissionOptions, log: Logger) {
    this.#log = log;
    this.#allowed = opts.allowedClients ?? [];
    const wanted = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(wanted) || wanted < 1) throw new RangeError(`max_connections must be a positive integer, got ${wanted}`);
    const files = openFilesLimit();
    this.#filesLimit = files;
    const fit = files === null ? wanted : Math.min(wanted, Math.max(1, files - RESERVED_FILE_DESCRIPTORS));
    if (fit < wanted) {
      log.warning('max_connections lowered to fit the open files limit', { max_connections: wanted, open_files_limit: files, effective: fit });
    }
    this.maxConnections = fit;
  }

  /** Counts `socket` until it closes, or closes it at once (false) when it may not stay. */
  admit(socket: Socket): boolean {
    const address = plainAddress(socket.remoteAddress ?? '');
    let refusal: string | null = null;
    if (this.#allowed.length > 0 && !this.#allowed.some((prefix) => address.startsWith(prefix))) {
      refusal = 'address not in allowed_clients';
    } else if (this.#open.size >= this.maxConnections) {
      refusal = `max_connections (${this.maxConnections}) reached`;
    }
    if (refusal !== null) {
      this.#log.warning('connection refused', { remote: address, reason: refusal });
      socket.destroy();
      return false;
    }
    this.#open.add(socket);
    socket.once('close', () => {
      this.#open.delete(socket);
      this.#nextFilesCheck--;
    });
    this.#checkFiles();
    return true;
  }

  #checkFiles(): void {
    if (this.#filesLimit === null || this.#open.size < this.#nextFilesCheck) return;
    const used = openFiles();
    if (used === null) return;
    const free = this.#filesLimit - used;
    if (free <= FILES_MARGIN) {
      this.#log.error('out of file descriptors: the system closes new connections until some close (EMFILE)', {
        open_files: used, open_files_limit: this.#filesLimit, connections: this.#open.size,
      });
    }
    this.#nextFilesCheck = this.#open.size + Math.max(1, Math.floor(free / 2));
  }

  /** Keeps a listener serving after a failed accept (EMFILE, ENFILE...), saying why. */
  watch(server: Server): void {
    server.on('error', (err: NodeJS.ErrnoException) => {
      this.#log.error('accepting a connection failed', { code: err.code, error: err.message, open: this.#open.size });
    });
  }
}

/** IPv4 clients of a dual-stack listener show as '::ffff:a.b.c.d': match them as 'a.b.c.d'. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Open file descriptors of this process (Linux /proc), or null when unknown. */
function openFiles(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** The soft limit on open files (Linux /proc), or null when unknown. */
function openFilesLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}
