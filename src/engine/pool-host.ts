// workers: N > 1 — a stateless module spread over N pooled threads with piscina. A round is cut
// into contiguous chunks, one task each; outputs are concatenated in input order, so the result is
// what one instance would have produced.
import { BroadcastChannel } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { Piscina } from 'piscina';
import * as Comlink from 'comlink';
import type { Event, RegisterEvent, Source } from '../common/types.ts';
import { Subscription } from '../common/subscription.ts';
import type { HostOptions, ModuleHost } from './module-host.ts';
import type { ModuleConf, ModuleExports } from './types.ts';
import { SharedBatch, decodeRegisterEvents, encodeRound } from './event-batch-codec.ts';
import { postableEngine } from './worker-protocol.ts';
import { ModuleError, describeError } from './errors.ts';
import { workerEntryPath } from './worker-entry.ts';

export interface PoolWorkerData {
  label: string;
  specifier: string;
  conf: ModuleConf;
  source: Source;
  channel: string;
}

/**
 * A chunk of a round (events and sources in the form of event-batch-codec.ts, in a shared buffer)
 * with the shared buffer its outputs go to, or the first task of a pool: create the module and
 * report its subscription. A chunk's result is a view of the output buffer (a new, larger one
 * when the outputs outgrew it).
 */
export type PoolTask = { session: number; batch: Uint8Array; output: SharedArrayBuffer } | { probe: true };

export async function createPoolHost(opts: HostOptions, exports: ModuleExports, threads: number): Promise<ModuleHost> {
  if (!exports.stateless)
    throw new ModuleError(opts.label, `workers: ${threads} needs a module that exports stateless = true`);
  const channelName = `hat-event-ts-engine-${randomUUID()}`;
  const channel = new BroadcastChannel(channelName);
  Comlink.expose(postableEngine(opts.engine), channel as unknown as Comlink.Endpoint);
  const workerData: PoolWorkerData = {
    label: opts.label,
    specifier: opts.specifier,
    conf: opts.conf,
    source: opts.source,
    channel: channelName,
  };
  const pool = new Piscina({
    filename: workerEntryPath('pool-task'),
    minThreads: threads,
    maxThreads: threads,
    workerData,
    idleTimeout: Infinity,
    // The default 'sync' blocks idle threads in Atomics.wait: a module's timers and its calls back
    // into the engine would stall between tasks.
    atomics: 'async',
  });
  // The subscription is a constant of the module: learn it once, so routing needs no round trip.
  let queryTypes: string[][];
  try {
    queryTypes = (await pool.run({ probe: true } satisfies PoolTask)) as string[][];
  } catch (error) {
    channel.close();
    await pool.destroy();
    throw new ModuleError(opts.label, `create failed: ${describeError(error)}`, { cause: error });
  }
  return new PoolHost(opts.label, new Subscription(queryTypes), pool, channel, threads);
}

class PoolHost implements ModuleHost {
  readonly hasSessionHooks = false;
  readonly closed: Promise<Error>;
  private resolveClosed!: (reason: Error) => void;
  private closing: Promise<void> | null = null;
  /** One pair of shared buffers per chunk of a round (a round has at most `threads` chunks). */
  private readonly inputs: SharedBatch[];
  private readonly outputs: SharedBatch[];

  constructor(
    readonly label: string,
    readonly subscription: Subscription,
    private readonly pool: Piscina,
    private readonly channel: BroadcastChannel,
    private readonly threads: number,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.inputs = Array.from({ length: threads }, () => new SharedBatch());
    this.outputs = Array.from({ length: threads }, () => new SharedBatch());
    pool.on('error', (error: Error) =>
      this.resolveClosed(new ModuleError(label, `pool thread crashed: ${error.message}`, { cause: error })),
    );
  }

  async *process(sessionId: number, sources: Source[], events: Event[]): AsyncIterable<RegisterEvent[]> {
    const chunks = Math.min(this.threads, events.length);
    const size = Math.ceil(events.length / chunks);
    const tasks: Promise<Uint8Array>[] = [];
    for (let start = 0, slot = 0; start < events.length; start += size, slot++) {
      const batch = encodeRound(events.slice(start, start + size), sources.slice(start, start + size), this.inputs[slot]);
      const output = this.outputs[slot] as SharedBatch;
      const task: PoolTask = { session: sessionId, batch, output: output.bytes.buffer as SharedArrayBuffer };
      tasks.push(
        (this.pool.run(task) as Promise<Uint8Array>).then((result) => {
          if (result.buffer !== output.bytes.buffer) output.bytes = new Uint8Array(result.buffer);
          return result;
        }),
      );
    }
    // Settle every task before reporting, so no chunk is left running after a failure.
    const results = await Promise.allSettled(tasks);
    for (const result of results) {
      if (result.status === 'rejected')
        throw new ModuleError(this.label, `process failed: ${describeError(result.reason)}`, { cause: result.reason });
      yield decodeRegisterEvents(result.value);
    }
  }

  async stopSession(): Promise<void> {}

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.resolveClosed(new ModuleError(this.label, 'closed'));
      this.channel.close();
      await this.pool.destroy();
    })();
    return this.closing;
  }
}
