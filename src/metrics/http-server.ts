// The metrics server (opt-in, `metrics_server` in the configuration): GET /metrics answers every
// registered figure in Prometheus' text format, GET /healthz 200 or 503 with a JSON body saying
// why. Plain HTTP without authentication, meant for loopback or a monitoring network.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from '../common/describe-error.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { ResourceBase, type Resource } from '../common/resource.ts';
import type { MetricsRegistry } from './registry.ts';

export interface HttpAddress {
  host: string;
  port: number;
}

/** `http://host:port` (the port written out; [v6] hosts in brackets). */
export function parseHttpAddress(address: string): HttpAddress {
  const match = /^http:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(address);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new TypeError(`invalid metrics address ${JSON.stringify(address)}: expected http://host:port`);
  const host = match[1]!;
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

export interface HealthReport {
  healthy: boolean;
  /** the JSON body: the reasons when unhealthy, and the figures they come from */
  body: Record<string, unknown>;
}

export interface MetricsServerOptions {
  registry: MetricsRegistry;
  health: () => HealthReport;
  logger?: Logger;
  /** Connections served at once; more are refused (and logged). Default 16. */
  maxConnections?: number;
}

/** A Resource: closing it stops listening and ends its connections. */
export interface MetricsServer extends Resource {
  /** http://host:port as bound (the real port when the configuration asked for port 0) */
  readonly address: string;
}

export async function startMetricsServer(address: string, opts: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseHttpAddress(address);
  const logger = opts.logger ?? silentLogger();
  const http = createServer((req, res) => void answer(req, res, opts, logger));
  http.maxConnections = opts.maxConnections ?? 16;
  http.on('drop', () => logger.warning('metrics server: connection refused, too many at once', { max_connections: http.maxConnections }));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return new HttpMetricsServer(http);
}

class HttpMetricsServer extends ResourceBase implements MetricsServer {
  readonly address: string;
  readonly #http: Server;

  constructor(http: Server) {
    super();
    this.#http = http;
    const { address, port } = http.address() as AddressInfo;
    this.address = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  protected override async teardown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeAllConnections();
    await closed;
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, opts: MetricsServerOptions, logger: Logger): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  try {
    if (path === '/metrics') return send(res, 200, opts.registry.contentType, await opts.registry.text());
    const report = opts.health();
    send(res, report.healthy ? 200 : 503, 'application/json', `${JSON.stringify(report.body)}\n`);
  } catch (err) {
    logger.error(`metrics server: ${path} failed: ${describeError(err)}`);
    send(res, 500, 'text/plain; charset=utf-8', `${describeError(err)}\n`);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
