// A Hat Monitor 0.7.1 stand-in for tests and bench:failover (no Monitor server is available as a
// package here; test/monitor/stand-in.test.ts checks it against the recorded sessions): one local
// server that is its own master (docs/protocol.md, "The model"), on a real chatter listener. Components
// connect, get cid 0, 1, ...; named ones form the global list (mid 0, connection order); after
// every change the blessing is recomputed and each client gets a MsgServer if its (mid, list)
// differs from what it got last. Not covered: slaves and the master port, the web UI (ranks are
// preset or set through `setRank`).
import { listen, type ChatterServer } from '../../../src/chatter/transport.ts';
import type { ChatterConnection, ChatterMessage } from '../../../src/chatter/connection.ts';
import { SbsReader } from '../../../src/sbs/reader.ts';
import { encodeAlone } from '../../../src/sbs/writer.ts';
import {
  MONITOR_MODULE, MonitorMsg, readMsgClient, writeMsgServer, type BlessingReq, type ComponentInfoRecord, type MsgClient,
} from '../../../src/sbs/monitor-messages.ts';
import { pythonJsonText } from '../../../src/common/json-payload.ts';
import type { JsonValue } from '../../../src/common/types.ts';
import { describeError } from '../../../src/common/describe-error.ts';
import { HAT_MONITOR_TYPES } from '../../../src/sbs/hat-monitor-types.ts';
import { recordingLogger } from '../logger.ts';
import { bless, type Algorithm } from './blessing.ts';

export interface StandInOptions {
  /** Default `tcp+sbs://127.0.0.1:0`. */
  address?: string;
  /** Rank of a component the rank cache does not know. Default 1. */
  defaultRank?: number;
  /** Default 'BLESS_ONE'. */
  defaultAlgorithm?: Algorithm;
  groupAlgorithms?: Record<string, Algorithm>;
  /** The rank cache, as the UI's set_rank would have filled it: looked up on a connection's first MsgClient. */
  ranks?: { name: string; group: string; rank: number }[];
  /** Master wall clock in seconds, for grant timestamps. Default Date.now() / 1000. */
  clock?: () => number;
  /** How long a client has to close after MsgClose before it is cut off. Default 3000 ms, as Hat's. */
  closeGraceMs?: number;
}

export interface MonitorStandIn {
  readonly address: string;
  /** The global list as last computed. */
  components(): ComponentInfoRecord[];
  /** Open client connections, named or not. */
  readonly connectionCount: number;
  /** What the UI's set_rank does: the entry's rank and the rank cache for its (name, group). */
  setRank(cid: number, rank: number): void;
  /** Cuts one client off without MsgClose, as when its process is killed. */
  drop(cid: number): void;
  /** Orderly shutdown: MsgClose to every client, each given the grace period to close. */
  close(): Promise<void>;
  /** A crash: every connection cut at once, no MsgClose. */
  kill(): Promise<void>;
  /** Problems the stand-in saw (bad client messages, closes). */
  readonly logs: string[];
}

interface Entry {
  readonly conn: ChatterConnection;
  record: ComponentInfoRecord;
  named: boolean;
  /** Inner bytes of the last MsgServer sent on this connection. */
  lastSent: Uint8Array | null;
  rejected: boolean;
}

const NO_REQUEST: BlessingReq = { token: null, timestamp: null };

export async function startMonitorStandIn(opts: StandInOptions = {}): Promise<MonitorStandIn> {
  const defaultRank = opts.defaultRank ?? 1;
  const algorithmOf = (group: string): Algorithm => opts.groupAlgorithms?.[group] ?? opts.defaultAlgorithm ?? 'BLESS_ONE';
  const clock = opts.clock ?? (() => Date.now() / 1000);
  const grace = opts.closeGraceMs ?? 3000;
  const rankCache = new Map<string, number>((opts.ranks ?? []).map((r) => [cacheKey(r.name, r.group), r.rank]));
  const entries = new Map<number, Entry>();
  const logs: string[] = [];
  const logger = recordingLogger(logs);
  let nextCid = 0;
  let lastToken = 0;
  let closing = false;

  const grant = (): BlessingReq => ({ token: ++lastToken, timestamp: clock() });
  const globalList = (): ComponentInfoRecord[] => [...entries.values()].filter((e) => e.named).map((e) => e.record);

  function changed(): void {
    if (closing) return;
    const list = globalList();
    bless(list, algorithmOf, grant);
    for (const entry of entries.values()) {
      if (entry.rejected || !entry.conn.isOpen) continue;
      const msg = { cid: entry.record.cid, mid: 0, components: list };
      const bytes = encodeAlone(msg, writeMsgServer);
      if (entry.lastSent !== null && Buffer.compare(entry.lastSent, bytes) === 0) continue;
      entry.lastSent = bytes;
      entry.conn.send(MONITOR_MODULE, MonitorMsg.server, (w) => w.raw(bytes));
    }
  }

  async function sendClose(entry: Entry): Promise<void> {
    if (!entry.conn.isOpen) return;
    entry.conn.send(MONITOR_MODULE, MonitorMsg.close);
    const timer = setTimeout(() => void entry.conn.close(), grace);
    await entry.conn.closed;
    clearTimeout(timer);
  }

  function reject(entry: Entry, reason: string): void {
    logger.warning(`cid ${entry.record.cid}: ${reason}`);
    entry.rejected = true;
    void sendClose(entry);
  }

  function onMessage(entry: Entry, msg: ChatterMessage): void {
    if (closing || entry.rejected) return;
    if (msg.module !== MONITOR_MODULE || msg.type !== MonitorMsg.client) {
      reject(entry, `unexpected message ${msg.module ?? ''}.${msg.type}`);
      return;
    }
    let data: string;
    let client: MsgClient;
    try {
      client = readMsgClient(new SbsReader(msg.data));
      data = pythonJsonText(JSON.parse(client.data) as JsonValue); // kept as a value, sent in Python form
    } catch (error) {
      reject(entry, `bad MsgClient: ${describeError(error)}`);
      return;
    }
    const first = !entry.named;
    entry.named = true;
    entry.record = {
      ...entry.record,
      name: client.name,
      group: client.group,
      data,
      rank: first ? rankCache.get(cacheKey(client.name, client.group)) ?? entry.record.rank : entry.record.rank,
      blessingRes: client.blessingRes,
    };
    changed();
  }

  function accept(conn: ChatterConnection): void {
    if (closing) {
      void conn.close();
      return;
    }
    const cid = nextCid++;
    const entry: Entry = {
      conn, named: false, lastSent: null, rejected: false,
      record: {
        cid, mid: 0, name: null, group: null, data: 'null', rank: defaultRank,
        blessingReq: NO_REQUEST, blessingRes: { token: null, ready: false },
      },
    };
    entries.set(cid, entry);
    conn.setHandler((msg) => onMessage(entry, msg));
    conn.onClose(() => {
      entries.delete(cid);
      changed();
    });
    changed();
  }

  const server: ChatterServer = await listen(opts.address ?? 'tcp+sbs://127.0.0.1:0', accept, { logger, sbsTypes: HAT_MONITOR_TYPES });

  let stopping: Promise<void> | null = null;
  return {
    address: server.addresses[0]!,
    logs,
    components: globalList,
    get connectionCount() {
      return entries.size;
    },
    setRank(cid, rank) {
      const entry = entries.get(cid);
      if (entry === undefined) throw new Error(`no component with cid ${cid}`);
      entry.record = { ...entry.record, rank };
      if (entry.named) rankCache.set(cacheKey(entry.record.name!, entry.record.group!), rank);
      changed();
    },
    drop(cid) {
      entries.get(cid)?.conn.abort('dropped by the test');
    },
    close() {
      stopping ??= (async () => {
        closing = true;
        await Promise.all([...entries.values()].map(sendClose));
        await server.close();
      })();
      return stopping;
    },
    kill() {
      stopping ??= (async () => {
        closing = true;
        for (const entry of entries.values()) entry.conn.abort('monitor killed by the test');
        await server.close();
      })();
      return stopping;
    },
  };
}

const cacheKey = (name: string, group: string): string => JSON.stringify([name, group]);
