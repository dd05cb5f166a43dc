// Starts a server, in this order: backend -> engine -> Syncer server -> eventer server -> Syncer
// client. With `monitor` (a redundancy group member, monitor-member.ts) the start is backend ->
// Syncer server -> monitor client -> Syncer client (peers from the monitor) -> ready; the engine
// and eventer server start when blessed. The running server and its stop: running-server.ts.
import type { Backend } from '../backends/backend.ts';
import { eventIdKey } from '../common/event-id.ts';
import type { EventerServerOptions } from '../eventer/server.ts';
import type { Event, JsonValue } from '../common/types.ts';
import type { StatusRegistrar } from '../syncer/status.ts';
import type { EventerServerConf, ServerConf } from '../config/server-conf.ts';
import { prepareServerConf, type PreparedConf } from '../config/prepare.ts';
import { acquireDataLock, type DataLock } from '../backends/data-lock.ts';
import { createLogger, type Logger } from './logger.ts';
import { ReservingBackend, reservationFileOf } from '../backends/session-reservation.ts';
import { checkPortFree, prepareDataDir, StartupError } from './startup-checks.ts';
import { describeError } from '../common/describe-error.ts';
import { rateLimitedLogger } from '../common/rate-limited-logger.ts';
import { EngineRunner, type EngineRunnerOptions } from './engine-runner.ts';
import { createSyncerServer, type SyncerServer } from '../syncer/server.ts';
import { createSyncerClient, type SyncerClient } from '../syncer/client.ts';
import { staticPeers, type PeerDiscovery } from '../syncer/peers.ts';
import { monitorPeerDiscovery } from '../monitor/peer-discovery.ts';
import { joinMonitorGroup, RunnerSlot, type MonitorMember } from './monitor-member.ts';
import { flushedOnRegister } from '../syncer/flushed-on-register.ts';
import type { Metrics } from '../common/metrics.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { parseHttpAddress, startMetricsServer, type MetricsServer } from '../metrics/http-server.ts';
import { serverHealth } from './health.ts';
import { Server, type RunningServer } from './running-server.ts';

export type { RunningServer } from './running-server.ts';

export interface RunServerOptions {
  /** relative paths in `conf` resolve against this folder; default the working directory */
  baseDir?: string;
  /** names the configuration in error messages */
  source?: string;
  /** default: a logger configured by `conf.log`, writing to stderr */
  logger?: Logger;
}

export async function runServer(conf: ServerConf, opts: RunServerOptions = {}): Promise<RunningServer> {
  const prepared = await prepareServerConf(conf, { baseDir: opts.baseDir, source: opts.source });
  return startServer(prepared, opts.logger ?? createLogger(prepared.conf.log));
}

/**
 * Starts from a configuration that `prepareServerConf` accepted. Everything the server logs goes
 * through one flood control, so no client can fill the disk by misbehaving (rate-limited-logger.ts).
 */
export async function startServer(prepared: PreparedConf, root: Logger): Promise<RunningServer> {
  const { conf } = prepared;
  const logger = rateLimitedLogger(root);
  const log = logger.child('server');
  for (const warning of prepared.warnings) log.warning(warning);
  await checkPortFree(conf.eventer_server.address);
  if (conf.syncer_server) await checkPortFree(conf.syncer_server.address);
  if (conf.metrics_server !== undefined) await checkPortFree(conf.metrics_server.address, parseHttpAddress(conf.metrics_server.address));

  const { dataPathKey } = prepared.backend;
  const dataPath = dataPathKey !== undefined ? (conf.backend[dataPathKey] as string) : null;
  const undo: (() => Promise<void>)[] = [];
  // Only a configured metrics server gets figures: without one, every part counts into nothing.
  const metricsConf = conf.metrics_server;
  const registry = metricsConf !== undefined ? new MetricsRegistry() : null;
  const metrics: Metrics | undefined = registry ?? undefined;
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    let lock: DataLock | null = null;
    if (dataPath !== null) {
      await prepareDataDir(dataPath);
      lock = await acquireDataLock(dataPath);
      undo.push(() => lock!.close());
    }
    const inner = await openBackend(prepared, dataPath, logger.child('backend'), metrics);
    undo.push(() => inner.close());
    const reserving = dataPath !== null ? await ReservingBackend.open(inner, reservationFileOf(dataPath), conf.engine.server_id, logger.child('backend')) : null;
    const stored: Backend = reserving ?? inner;
    // What the engine and the Syncer store into: a backend that never flushes is served as if
    // registering were flushing (syncer/flushed-on-register.ts), else its peers would get nothing.
    const backend = conf.syncer_server && prepared.backend.volatile ? flushedOnRegister(stored) : stored;
    logFlushes(backend, logger.child('backend'));

    const runnerOptions: EngineRunnerOptions = {
      serverId: conf.engine.server_id,
      modules: prepared.modules,
      backend,
      eventer: { address: conf.eventer_server.address, options: eventerServerOptions(conf.eventer_server) },
      logger,
      metrics,
    };
    // Without a monitor the engine runs from the start; with one, only while blessed (in the slot).
    const runner = conf.monitor === undefined ? await EngineRunner.start(runnerOptions) : null;
    if (runner !== null) undo.push(() => runner.close());
    const slot = runner === null ? new RunnerSlot(log) : null;
    /** where the Syncer registers its status events, and what `synced_restart_engine` restarts */
    const current: EngineRunner | RunnerSlot = runner ?? slot!;
    const syncerServer = conf.syncer_server ? await startSyncerServer(conf.syncer_server, backend, current, logger) : null;
    if (syncerServer !== null) {
      undo.push(() => syncerServer.close());
      current.onEngineStart(() => syncerServer.publishStatus());
    }
    let member: MonitorMember | null = null;
    if (runner !== null) await runner.listen();
    else {
      member = await joinMonitorGroup({
        conf: conf.monitor!,
        data: memberData(conf, syncerServer),
        slot: slot!,
        startRunner: () => startListening(runnerOptions),
        afterStop: async () => {
          await backend.flush();
          await syncerServer?.flushClients();
        },
        logger,
      });
      const joined = member;
      undo.push(() => joined.close());
    }
    const syncerClient = createServerSyncerClient(conf, backend, current, member, logger);
    if (syncerClient !== null) undo.push(() => syncerClient.close());
    if (syncerClient !== null && conf.synced_restart_engine) {
      // Hat's meaning: once a peer's backlog that brought events is synced, modules start afresh
      // on a backend that now holds them.
      syncerClient.onState((peer, state, backlogEvents) => {
        if (state === 'synced' && backlogEvents > 0) void current.restart(`synced ${backlogEvents} events from server ${peer.serverId}`);
      });
    }

    let metricsServer: MetricsServer | null = null;
    if (registry !== null && metricsConf !== undefined) {
      const { address, max_flush_delay: maxFlushDelay = 30 } = metricsConf;
      metricsServer = await startMetricsServer(address, {
        registry,
        health: () => serverHealth({ engine: runner ?? slot!.runner, backend: stored, maxFlushDelay }),
        logger: logger.child('metrics'),
      }).catch((err: NodeJS.ErrnoException) => {
        throw new StartupError(`cannot listen on ${address}: ${err.code ?? err.message}`, { cause: err });
      });
    }

    const eventerAddresses = runner?.eventerAddresses ?? [conf.eventer_server.address];
    const server = new Server({ runner, member, eventerAddresses, syncerServer, syncerClient, backend, inner, reserving, lock, metricsServer, dataPath, log });
    log.info('server started', {
      server_id: conf.engine.server_id,
      backend: conf.backend.module,
      modules: conf.engine.modules.map((m) => m.module),
      data: dataPath,
    });
    // Listening is the last line of a start: whoever waits for it has seen the rest.
    if (dataPath !== null) log.info('data stored in', { db_path: dataPath });
    if (metricsServer !== null) log.info('metrics server listening', { address: metricsServer.address });
    for (const address of runner?.eventerAddresses ?? []) log.info('eventer server listening', { address });
    return server;
  } catch (err) {
    await unwind();
    throw err;
  }
}

async function startSyncerServer(conf: NonNullable<ServerConf['syncer_server']>, backend: Backend, status: StatusRegistrar, logger: Logger): Promise<SyncerServer> {
  try {
    return await createSyncerServer(conf.address, backend, status, { logger, pemFile: conf.pem_file });
  } catch (err) {
    throw new StartupError(`cannot listen on ${conf.address}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`, { cause: err });
  }
}

/** An engine and its eventer server, listening (a member's, each time it is blessed). */
async function startListening(opts: EngineRunnerOptions): Promise<EngineRunner> {
  const runner = await EngineRunner.start(opts);
  try {
    await runner.listen();
  } catch (err) {
    await runner.close();
    throw err;
  }
  return runner;
}

/**
 * What a member publishes to its group, in Hat's keys and order: the advertised addresses where
 * configured ([Q6]), else the eventer address as configured and the Syncer server's bound one.
 */
function memberData(conf: ServerConf, syncerServer: SyncerServer | null): JsonValue {
  const data: { [key: string]: JsonValue } = {
    server_id: conf.engine.server_id,
    eventer_server_address: conf.eventer_server.advertised_address ?? conf.eventer_server.address,
  };
  if (syncerServer !== null) data['syncer_server_address'] = conf.syncer_server?.advertised_address ?? syncerServer.addresses[0]!;
  if (conf.syncer_token !== undefined) data['syncer_token'] = conf.syncer_token;
  return data;
}

/**
 * The Syncer client: with a monitor always, its peers the group's members (docs/protocol.md,
 * "Syncer peers"); without one when `syncer_peers` lists any (the two never come together: the
 * configuration check refuses both).
 */
function createServerSyncerClient(
  conf: ServerConf, backend: Backend, status: StatusRegistrar, member: MonitorMember | null, logger: Logger,
): SyncerClient | null {
  const serverId = conf.engine.server_id;
  const peers = conf.syncer_peers ?? [];
  let discovery: PeerDiscovery;
  if (member !== null) {
    const rules = { group: conf.monitor!.group, serverId, syncerToken: conf.syncer_token };
    discovery = monitorPeerDiscovery(member.client, rules, logger.child('monitor'));
  } else if (peers.length > 0) {
    discovery = staticPeers(peers.map((p) => ({ serverId: p.server_id, address: p.address })));
  } else {
    return null;
  }
  return createSyncerClient(serverId, backend, status, discovery, { logger });
}

async function openBackend(prepared: PreparedConf, dataPath: string | null, logger: Logger, metrics: Metrics | undefined): Promise<Backend> {
  try {
    return await prepared.backend.create(prepared.conf.backend, { logger, metrics });
  } catch (err) {
    const where = dataPath !== null ? `the database ${dataPath}` : `the backend ${prepared.conf.backend.module}`;
    throw new StartupError(`cannot open ${where}: ${describeError(err)}`, { cause: err });
  }
}

/** eventer_server's keys as the listener's options (absent ones take the library defaults). */
function eventerServerOptions(c: EventerServerConf): EventerServerOptions {
  return {
    pemFile: c.pem_file, caFile: c.ca_file, requireClientCertificate: c.require_client_certificate,
    allowedClients: c.allowed_clients, allowReservedTypes: c.allow_reserved_types, maxConnections: c.max_connections,
    maxFrameSize: c.max_frame_size, maxInputBytes: c.max_input_bytes, maxOutputBytes: c.max_output_bytes,
    maxJsonDepth: c.max_json_depth,
  };
}

/** Debug: what each flush made durable (coalesced per flush; logged after the commit). */
function logFlushes(backend: Backend, log: Logger): void {
  if (!log.isEnabled('debug')) return;
  let batch: { sessions: number; events: number; last: Event } | null = null;
  backend.onFlushed((events) => {
    if (events.length === 0) return;
    if (batch === null) {
      batch = { sessions: 0, events: 0, last: events[0]! };
      setImmediate(() => {
        const b = batch!;
        batch = null;
        log.debug('flushed', { sessions: b.sessions, events: b.events, last_id: eventIdKey(b.last.id) });
      });
    }
    batch.sessions += 1;
    batch.events += events.length;
    batch.last = events[events.length - 1]!;
  });
}
