// The process' own figures, all read when scraped: CPU time, memory, open files, and how late the
// event loop has been since the last scrape. Not prom-client's default collectors: their GC
// observer runs JavaScript on every garbage collection, which measurably added to the work per
// register request (bench/metrics.ts --instructions); these cost nothing between scrapes but
// the event loop delay monitor, a timer in libuv's own C++.
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const cpu = (name: string, help: string, of: (usage: NodeJS.CpuUsage) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        this.reset();
        this.inc(of(process.cpuUsage()) / 1e6);
      },
    });
  };
  cpu('process_cpu_user_seconds_total', 'User CPU time of the process, in seconds', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'System CPU time of the process, in seconds', (u) => u.system);
  cpu('process_cpu_seconds_total', 'CPU time of the process (user and system), in seconds', (u) => u.user + u.system);

  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers, collect() { this.set(read()); } });
  };
  const started = Date.now() / 1000 - process.uptime();
  gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds', () => started);
  gauge('process_resident_memory_bytes', 'Resident memory of the process, in bytes', () => process.memoryUsage.rss());
  let memory = process.memoryUsage();
  gauge('nodejs_heap_size_total_bytes', 'Size of the V8 heap, in bytes', () => (memory = process.memoryUsage()).heapTotal);
  gauge('nodejs_heap_size_used_bytes', 'Used part of the V8 heap, in bytes', () => memory.heapUsed);
  gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript (buffers), in bytes', () => memory.external);
  if (openFiles() !== null) gauge('process_open_fds', 'Open file descriptors of the process', () => openFiles() ?? 0);

  // delay of the event loop (a blocked main thread delays every request), per scrape interval
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const delayGauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name, help, registers,
      collect() {
        this.set(delay.count > 0 ? read() / 1e9 : 0);
      },
    });
  };
  delayGauge('nodejs_eventloop_lag_p50_seconds', 'Median event loop delay since the previous scrape, in seconds', () => delay.percentile(50));
  delayGauge('nodejs_eventloop_lag_p99_seconds', '99th percentile of the event loop delay since the previous scrape, in seconds', () => delay.percentile(99));
  // read last: it starts the next interval (whose first tick only restarts the monitor's clock)
  delayGauge('nodejs_eventloop_lag_max_seconds', 'Largest event loop delay since the previous scrape, in seconds', () => {
    const max = delay.max;
    delay.reset();
    return max;
  });
}

/** Linux: entries of /proc/self/fd (less the one reading it); null where there is no such folder. */
function openFiles(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return null;
  }
}
