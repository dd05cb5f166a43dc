// The metrics server over a real socket with Node's fetch: the two routes, their content types,
// what it refuses, the connection bound, and addresses.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { parseHttpAddress, startMetricsServer, type HealthReport, type MetricsServer } from '../../src/metrics/http-server.ts';
import { recordingLogger } from '../helpers/logger.ts';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(health: () => HealthReport, maxConnections?: number): Promise<{ server: MetricsServer; registry: MetricsRegistry; logged: string[] }> {
  const registry = new MetricsRegistry();
  const logged: string[] = [];
  const server = await startMetricsServer('http://127.0.0.1:0', { registry, health, logger: recordingLogger(logged), maxConnections });
  servers.push(server);
  return { server, registry, logged };
}

const healthy = (): HealthReport => ({ healthy: true, body: { status: 'ok', reasons: [] } });

describe('metrics server', () => {
  it('GET /metrics: the registry in Prometheus text format', async () => {
    const { server, registry } = await start(healthy);
    registry.counter('t_requests_total', 'requests').inc(7);
    expect(server.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.address}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toContain('# TYPE t_requests_total counter\nt_requests_total 7\n');
  });

  it('GET /healthz: 200 or 503 with the JSON body the health check gives, as it changes', async () => {
    let report: HealthReport = healthy();
    const { server } = await start(() => report);
    const ok = await fetch(`${server.address}/healthz`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/json');
    expect(await ok.json()).toEqual({ status: 'ok', reasons: [] });
    report = { healthy: false, body: { status: 'unhealthy', reasons: ['the backend is closed'] } };
    const bad = await fetch(`${server.address}/healthz?verbose=1`);
    expect(bad.status).toBe(503);
    expect(await bad.json()).toEqual({ status: 'unhealthy', reasons: ['the backend is closed'] });
  });

  it('HEAD answers without a body; other paths 404, other methods 405', async () => {
    const { server } = await start(healthy);
    const head = await fetch(`${server.address}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const missing = await fetch(`${server.address}/`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('not found: try /metrics or /healthz\n');
    const post = await fetch(`${server.address}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('a health check that throws answers 500 with the error, logged; the server goes on', async () => {
    const { server, logged } = await start(() => {
      throw new Error('no health today');
    });
    const res = await fetch(`${server.address}/healthz`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('no health today\n');
    expect(logged).toContain('error: metrics server: /healthz failed: no health today');
    expect((await fetch(`${server.address}/metrics`)).status).toBe(200);
  });

  it('refuses connections past its bound and logs it', async () => {
    const { server, logged } = await start(healthy, 1);
    const { host, port } = parseHttpAddress(server.address);
    const first = net.connect(port, host);
    await new Promise((resolve) => first.once('connect', resolve));
    const second = net.connect(port, host);
    await new Promise((resolve) => second.once('close', resolve)); // the server drops it
    expect(logged).toContain('warning: metrics server: connection refused, too many at once {"max_connections":1}');
    first.destroy();
  });

  it('closing ends open keep-alive connections and stops listening', async () => {
    const { server } = await start(healthy);
    const { host, port } = parseHttpAddress(server.address);
    const socket = net.connect(port, host);
    await new Promise((resolve) => socket.once('connect', resolve));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    await server.close();
    await ended;
    expect(server.failure).toBeUndefined();
    await expect(fetch(`${server.address}/metrics`)).rejects.toThrow();
  });

  it('parses http://host:port only', () => {
    expect(parseHttpAddress('http://127.0.0.1:23080')).toEqual({ host: '127.0.0.1', port: 23080 });
    expect(parseHttpAddress('http://localhost:80/')).toEqual({ host: 'localhost', port: 80 });
    expect(parseHttpAddress('http://[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    for (const bad of ['127.0.0.1:23080', 'http://127.0.0.1', 'https://127.0.0.1:1', 'http://127.0.0.1:70000', 'http://h:1/metrics', 'tcp+sbs://h:1']) {
      expect(() => parseHttpAddress(bad), bad).toThrow(`invalid metrics address ${JSON.stringify(bad)}: expected http://host:port`);
    }
  });
});
