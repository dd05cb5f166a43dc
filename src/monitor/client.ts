// The Hat Monitor client (docs/protocol.md, "The client"): one chatter connection to the local monitor
// server. It publishes name, group, data and the blessing response (MsgClient), and keeps the
// global component list and its own entry from every MsgServer. It never reconnects: when the
// connection ends, the client is closed and the application decides what follows.
import type { JsonValue } from '../common/types.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { describeError } from '../common/describe-error.ts';
import { pythonJsonText } from '../common/json-payload.ts';
import { connect } from '../chatter/transport.ts';
import type { ChatterConnection, ChatterMessage } from '../chatter/connection.ts';
import { SbsReader } from '../sbs/reader.ts';
import { HAT_MONITOR_TYPES } from '../sbs/hat-monitor-types.ts';
import {
  MONITOR_MODULE, MonitorMsg, readMsgServer, writeMsgClient, type BlessingRes, type SbsInteger,
} from '../sbs/monitor-messages.ts';
import { componentInfoFromRecord, type ComponentInfo } from './component-info.ts';

/** Hat's `monitor:` section (`hat-monitor://client.yaml#`), keys as in server.yaml. */
export interface MonitorClientConf {
  name: string;
  group: string;
  /** `tcp+sbs://host:port` of the local monitor server (Hat's default port is 23010). */
  monitor_address: string;
}

export interface MonitorClientOptions {
  /** Published to every monitor client (addresses, ids); sent as Python-style JSON text. Default null. */
  data?: JsonValue;
  /**
   * The `ready` flag of the first MsgClient (default false). A Component built on this client
   * starts with it, so a component that is ready from the start says so in its first message.
   */
  ready?: boolean;
  /** Seconds between chatter pings and for the pong to arrive. Default 20, as Hat's. */
  pingTimeout?: number;
  logger?: Logger;
}

export interface MonitorClient extends Resource {
  /** This connection's component id; null until the first MsgServer. */
  readonly cid: SbsInteger | null;
  /** The local server's id given by the master; null until the first MsgServer. */
  readonly mid: SbsInteger | null;
  /** The global list: every named component of all groups and monitors, in the master's order. */
  readonly components: readonly ComponentInfo[];
  /** Our own entry in the list; null until the server has processed our first MsgClient. */
  readonly info: ComponentInfo | null;
  /** What we last told the monitor. */
  readonly blessingRes: BlessingRes;
  /** Tells the monitor a new blessing response; sends a MsgClient only when it differs. */
  setBlessingRes(res: BlessingRes): void;
  /** Called after each MsgServer that changed the list or the own entry; returns unsubscribe. */
  onChange(listener: () => void): () => void;
  /**
   * Runs before the connection closes, however the close began (`close()`, MsgClose from the
   * server, or the connection lost, when nothing can be sent any more). Hooks run one after
   * another and are awaited: this is where a Component stops its work and releases its token.
   */
  onClosing(hook: () => Promise<void>): () => void;
}

export async function connectMonitorClient(conf: MonitorClientConf, opts: MonitorClientOptions = {}): Promise<MonitorClient> {
  for (const key of ['name', 'group', 'monitor_address'] as const) {
    if (typeof conf[key] !== 'string') throw new TypeError(`monitor.${key} must be a string, got ${describeValue(conf[key])}`);
  }
  const dataText = pythonJsonText(opts.data ?? null); // throws here on NaN, Infinity or a non-JSON value
  const logger = opts.logger ?? silentLogger('hat.monitor.client');
  const conn = await connect(conf.monitor_address, {
    pingTimeout: opts.pingTimeout ?? 20,
    logger,
    sbsTypes: HAT_MONITOR_TYPES,
  });
  return new Client(conn, conf, dataText, opts.ready ?? false, logger);
}

class Client extends ResourceBase implements MonitorClient {
  readonly #conn: ChatterConnection;
  readonly #conf: MonitorClientConf;
  readonly #dataText: string;
  readonly #logger: Logger;
  #cid: SbsInteger | null = null;
  #mid: SbsInteger | null = null;
  #components: readonly ComponentInfo[] = [];
  #info: ComponentInfo | null = null;
  #blessingRes: BlessingRes;
  /** The last MsgServer's inner bytes: an identical snapshot changes nothing. */
  #lastServerMsg: Uint8Array | null = null;
  readonly #listeners = new Set<() => void>();
  readonly #closingHooks = new Set<() => Promise<void>>();

  constructor(conn: ChatterConnection, conf: MonitorClientConf, dataText: string, ready: boolean, logger: Logger) {
    super();
    this.#conn = conn;
    this.#conf = conf;
    this.#dataText = dataText;
    this.#logger = logger;
    this.#blessingRes = { token: null, ready };
    this.lifecycle.adopt(conn); // closed after the closing hooks, which may still send
    conn.setHandler((msg) => this.#onMessage(msg));
    conn.onClose((reason) => {
      if (this.isOpen) {
        logger.warning('monitor connection lost', { reason });
        void this.lifecycle.fail(new Error(`monitor connection lost: ${reason}`));
      }
    });
    this.#send();
    logger.debug('connected to monitor', { address: conn.remoteAddress, name: conf.name, group: conf.group });
  }

  get cid(): SbsInteger | null {
    return this.#cid;
  }

  get mid(): SbsInteger | null {
    return this.#mid;
  }

  get components(): readonly ComponentInfo[] {
    return this.#components;
  }

  get info(): ComponentInfo | null {
    return this.#info;
  }

  get blessingRes(): BlessingRes {
    return this.#blessingRes;
  }

  setBlessingRes(res: BlessingRes): void {
    if (res.token === this.#blessingRes.token && res.ready === this.#blessingRes.ready) return;
    this.#blessingRes = { token: res.token, ready: res.ready };
    this.#send();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onClosing(hook: () => Promise<void>): () => void {
    this.#closingHooks.add(hook);
    return () => this.#closingHooks.delete(hook);
  }

  #send(): void {
    if (!this.#conn.isOpen) {
      this.#logger.debug('blessing response not sent: monitor connection closed', { token: String(this.#blessingRes.token), ready: this.#blessingRes.ready });
      return;
    }
    const msg = { name: this.#conf.name, group: this.#conf.group, data: this.#dataText, blessingRes: this.#blessingRes };
    this.#conn.send(MONITOR_MODULE, MonitorMsg.client, (w) => writeMsgClient(w, msg), { sizeHint: 32 + this.#dataText.length });
  }

  #onMessage(msg: ChatterMessage): void {
    if (!this.isOpen) return;
    if (msg.module === MONITOR_MODULE && msg.type === MonitorMsg.server) {
      this.#onServerMsg(msg.data);
    } else if (msg.module === MONITOR_MODULE && msg.type === MonitorMsg.close) {
      this.#logger.info('monitor server asked us to close (MsgClose)');
      void this.lifecycle.fail(new Error('the monitor server closed the connection (MsgClose)'));
    } else {
      this.#protocolError(`unexpected message ${msg.module ?? ''}.${msg.type} from the monitor server`);
    }
  }

  #onServerMsg(data: Uint8Array): void {
    const last = this.#lastServerMsg;
    if (last !== null && Buffer.compare(last, data) === 0) return;
    let cid: SbsInteger;
    let mid: SbsInteger;
    let components: ComponentInfo[];
    try {
      const server = readMsgServer(new SbsReader(data));
      cid = server.cid;
      mid = server.mid;
      components = server.components.map(componentInfoFromRecord);
    } catch (error) {
      this.#protocolError(`bad MsgServer: ${describeError(error)}`);
      return;
    }
    this.#lastServerMsg = Uint8Array.prototype.slice.call(data);
    this.#cid = cid;
    this.#mid = mid;
    this.#components = components;
    this.#info = components.find((c) => c.cid === cid && c.mid === mid) ?? null;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (error) {
        this.#logger.error('monitor change listener failed', { error: describeError(error) });
      }
    }
  }

  #protocolError(reason: string): void {
    this.#logger.warning('closing the monitor connection', { reason });
    void this.lifecycle.fail(new Error(reason));
  }

  protected override async teardown(): Promise<void> {
    for (const hook of [...this.#closingHooks]) {
      try {
        await hook();
      } catch (error) {
        this.#logger.error('monitor closing hook failed', { error: describeError(error) });
      }
    }
  }
}

function describeValue(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value) ?? typeof value;
}
