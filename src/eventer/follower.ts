// An eventer client that follows the active event server of a redundancy group, as Hat's eventer
// Component does (docs/protocol.md, "Following the active event server"): the monitor's list says
// which server is active; we connect to it, reconnect while it stays active, and move to the next
// one when the monitor says so.
// [Q13] Unlike Hat's, a server that is no longer active is let go at once: with nobody active we
// hold no connection and try no address until the monitor announces one.
import type { JsonValue } from '../common/types.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { describeError } from '../common/describe-error.ts';
import { parseAddress } from '../chatter/address.ts';
import type { MonitorClient } from '../monitor/client.ts';
import { isActive, type ComponentInfo } from '../monitor/component-info.ts';
import type { SbsInteger } from '../sbs/monitor-messages.ts';
import { connectEventer, type EventerClient, type EventerClientOptions } from './client.ts';

export interface EventerFollowerOptions extends EventerClientOptions {
  /** The event servers' monitor group (Hat's `server_group`). */
  serverGroup: string;
  /** Seconds between attempts to reach the active server, and after a connection drops. Default 0.5, as Hat's. */
  reconnectDelay?: number;
  logger?: Logger;
}

/** The event server the monitor says is active, from its published data. */
export interface ActiveServer {
  readonly mid: SbsInteger;
  readonly cid: SbsInteger;
  /** Its `server_id`, when it published a number. */
  readonly serverId: number | null;
  /** Its `eventer_server_address`. */
  readonly address: string;
}

export interface EventerFollower extends Resource {
  /** The active server as last announced by the monitor; null while none is active. */
  readonly activeServer: ActiveServer | null;
  /** The open connection to it; null while (re)connecting, closing, or while none is active. */
  readonly client: EventerClient | null;
  /** The open connection, or the next one to open (never one already closing); rejects once the follower closes. */
  connection(): Promise<EventerClient>;
  /**
   * Called for each new connection, once its subscriptions are sent: the place to re-query what
   * may have happened while disconnected. Returns unsubscribe.
   */
  onConnected(listener: (client: EventerClient, server: ActiveServer) => void): () => void;
  /** Called when a connection ends: the server went away or another one became active. */
  onDisconnected(listener: (server: ActiveServer) => void): () => void;
}

/** Follows `serverGroup`'s active server; closes when `monitor` closes (closing it is the caller's). */
export function createEventerFollower(monitor: MonitorClient, opts: EventerFollowerOptions): EventerFollower {
  if (typeof opts.serverGroup !== 'string') throw new TypeError(`serverGroup must be a string, got ${typeof opts.serverGroup}`);
  const reconnectDelay = opts.reconnectDelay ?? 0.5;
  if (!(reconnectDelay >= 0)) throw new RangeError(`reconnectDelay must be 0 or more seconds, got ${reconnectDelay}`);
  return new Follower(monitor, opts, reconnectDelay * 1000, opts.logger ?? silentLogger('hat.event.eventer.follower'));
}

class Follower extends ResourceBase implements EventerFollower {
  readonly #monitor: MonitorClient;
  readonly #serverGroup: string;
  readonly #reconnectDelayMs: number;
  readonly #logger: Logger;
  readonly #eventerOpts: EventerClientOptions;
  #announced: ActiveServer | null = null;
  #client: EventerClient | null = null;
  /** Stops the connection loop of the announced server. */
  #stopLoop: AbortController | null = null;
  readonly #loops = new Set<Promise<void>>();
  #waiters: { resolve: (client: EventerClient) => void; reject: (error: Error) => void }[] = [];
  readonly #connected = new Set<(client: EventerClient, server: ActiveServer) => void>();
  readonly #disconnected = new Set<(server: ActiveServer) => void>();
  /** Components whose data was refused, so each is warned about once while it is listed. */
  #refused = new Set<string>();
  readonly #unsubscribe: () => void;

  constructor(monitor: MonitorClient, opts: EventerFollowerOptions, reconnectDelayMs: number, logger: Logger) {
    super();
    const { serverGroup, reconnectDelay: _delay, ...eventerOpts } = opts;
    this.#monitor = monitor;
    this.#serverGroup = serverGroup;
    this.#reconnectDelayMs = reconnectDelayMs;
    this.#logger = logger;
    this.#eventerOpts = { ...eventerOpts, logger };
    this.#unsubscribe = monitor.onChange(() => this.#follow());
    void monitor.closed.then(() => this.lifecycle.fail(new Error(`the monitor client closed${monitor.failure ? `: ${monitor.failure.message}` : ''}`)));
    this.#follow();
  }

  get activeServer(): ActiveServer | null {
    return this.#announced;
  }

  get client(): EventerClient | null {
    return this.#client?.isOpen ? this.#client : null; // one closing is already gone
  }

  connection(): Promise<EventerClient> {
    if (!this.isOpen) return Promise.reject(new Error('the eventer follower is closed'));
    const client = this.client;
    if (client !== null) return Promise.resolve(client);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  onConnected(listener: (client: EventerClient, server: ActiveServer) => void): () => void {
    this.#connected.add(listener);
    return () => this.#connected.delete(listener);
  }

  onDisconnected(listener: (server: ActiveServer) => void): () => void {
    this.#disconnected.add(listener);
    return () => this.#disconnected.delete(listener);
  }

  /** On every monitor change: has another server (or none) become the active one? */
  #follow(): void {
    if (!this.isOpen) return;
    const next = this.#findActive();
    if (next?.address === this.#announced?.address) {
      this.#announced = next;
      return;
    }
    this.#stopLoop?.abort();
    this.#stopLoop = null;
    this.#announced = next;
    if (next === null) {
      this.#logger.info('no active event server: waiting for the monitor to announce one', { group: this.#serverGroup });
      return;
    }
    this.#logger.info('active event server', { address: next.address, server_id: next.serverId, group: this.#serverGroup });
    const stop = new AbortController();
    this.#stopLoop = stop;
    const loop = this.#connectLoop(next, stop.signal);
    this.#loops.add(loop);
    void loop.finally(() => this.#loops.delete(loop));
  }

  /** [Q14] The first active member of the group in list order, as Hat's; entries with unusable data are skipped. */
  #findActive(): ActiveServer | null {
    const refused = new Set<string>();
    let found: ActiveServer | null = null;
    for (const info of this.#monitor.components) {
      if (info.group !== this.#serverGroup || !isActive(info)) continue;
      const key = `${info.mid}/${info.cid}`;
      const server = activeServerOf(info);
      if (typeof server === 'string') {
        refused.add(key);
        if (!this.#refused.has(key)) this.#logger.warning('active event server skipped: unusable monitor data', { mid: String(info.mid), cid: String(info.cid), reason: server });
        continue;
      }
      found = server;
      break;
    }
    this.#refused = refused;
    return found;
  }

  async #connectLoop(server: ActiveServer, signal: AbortSignal): Promise<void> {
    let failures = 0;
    const stopped = aborted(signal);
    while (!signal.aborted) {
      let client: EventerClient;
      try {
        client = await connectEventer(server.address, this.#eventerOpts);
      } catch (error) {
        // Logged once per address at warning: a server that was just blessed may not listen yet ([Q12]).
        if (failures++ === 0) this.#logger.warning('cannot reach the active event server: retrying while it stays active', { address: server.address, error: describeError(error) });
        else this.#logger.debug('active event server still unreachable', { address: server.address, attempts: failures, error: describeError(error) });
        await delay(this.#reconnectDelayMs, signal);
        continue;
      }
      if (signal.aborted) {
        await client.close();
        break;
      }
      failures = 0;
      this.#client = client;
      this.#logger.info('connected to the active event server', { address: server.address });
      this.#emitConnected(client, server);
      await Promise.race([client.closed, stopped]);
      this.#client = null;
      await client.close();
      this.#logger.info('disconnected from the event server', { address: server.address, reason: signal.aborted ? 'no longer the active one' : 'connection closed' });
      this.#emit(this.#disconnected, (listener) => listener(server));
      await delay(this.#reconnectDelayMs, signal);
    }
  }

  #emitConnected(client: EventerClient, server: ActiveServer): void {
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(client);
    this.#emit(this.#connected, (listener) => listener(client, server));
  }

  #emit<L>(listeners: Set<L>, call: (listener: L) => void): void {
    for (const listener of [...listeners]) {
      try {
        call(listener);
      } catch (error) {
        this.#logger.error('eventer follower listener failed', { error: describeError(error) });
      }
    }
  }

  protected override async teardown(): Promise<void> {
    this.#unsubscribe();
    this.#stopLoop?.abort();
    await Promise.all([...this.#loops]);
    const error = new Error('the eventer follower is closed');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}

/** The server a monitor entry describes, or why its data cannot be used. */
function activeServerOf(info: ComponentInfo): ActiveServer | string {
  const data: JsonValue = info.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'data is not an object';
  const address = data['eventer_server_address'];
  if (typeof address !== 'string') return 'no eventer_server_address string';
  try {
    parseAddress(address);
  } catch (error) {
    return describeError(error);
  }
  const serverId = data['server_id'];
  return { mid: info.mid, cid: info.cid, serverId: typeof serverId === 'number' ? serverId : null, address };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Waits `ms`, or less when `signal` aborts first. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
