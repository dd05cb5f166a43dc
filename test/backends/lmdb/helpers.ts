// Shared fixtures of the LMDB backend tests: temp db paths, the base confs (C0), events.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { constants } from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import type { Event, EventPayload, EventType, Timestamp } from '../../../src/common/types.ts';
import type { LmdbBackendConf } from '../../../src/backends/lmdb/conf.ts';
import { openLmdbBackend, type LmdbBackend, type LmdbBackendOptions } from '../../../src/backends/lmdb/backend.ts';
import { classifyWriteError } from '../../../src/backends/lmdb/write-error.ts';
export { until } from '../../helpers/until.ts';

const dirs: string[] = [];
const open: LmdbBackend[] = [];

afterEach(async () => {
  for (const backend of open.splice(0)) await backend.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDbPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-lmdb-'));
  dirs.push(dir);
  return path.join(dir, 'events.db');
}

/** Base conf C0 (flush_period 30) on a fresh temp path, with `over` applied. */
export function c0(over: Partial<LmdbBackendConf> = {}): LmdbBackendConf {
  return {
    db_path: tempDbPath(),
    max_db_size: 1024 * 1024 * 1024,
    flush_period: 30,
    conditions: [],
    latest: { subscriptions: [['*']] },
    ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
    ...over,
  };
}

/** Opens (without the cleanup loop unless asked) and closes the backend after the test. */
export async function openBackend(conf: LmdbBackendConf, options: LmdbBackendOptions = { cleanup: false }): Promise<LmdbBackend> {
  const backend = await openLmdbBackend(conf, options);
  open.push(backend);
  return backend;
}

export async function reopen(backend: LmdbBackend, conf: LmdbBackendConf): Promise<LmdbBackend> {
  await backend.close();
  return openBackend(conf);
}

export const T0 = 1_700_000_000;

export function ts(seconds: number, us = 0): Timestamp {
  return { s: T0 + seconds, us };
}

let counter = 0;

export interface EventOptions {
  server?: number;
  session?: number;
  instance?: number;
  timestamp?: Timestamp;
  sourceTimestamp?: Timestamp | null;
  payload?: EventPayload | null;
}

/**
 * The cases' notation E(type, ...): events made in sequence get increasing instances and
 * timestamps unless given; the source timestamp defaults to the timestamp.
 */
export function E(type: string | EventType, o: EventOptions = {}): Event {
  counter += 1;
  const timestamp = o.timestamp ?? ts(counter);
  return {
    id: { server: o.server ?? 1, session: o.session ?? 1, instance: o.instance ?? counter },
    type: typeof type === 'string' ? type.split('.') : type,
    timestamp,
    sourceTimestamp: o.sourceTimestamp === undefined ? timestamp : o.sourceTimestamp,
    payload: o.payload ?? null,
  };
}

export function json(data: import('../../../src/common/types.ts').JsonValue): EventPayload {
  return { type: 'json', data };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Ids of events, for readable failures. */
export function ids(events: (Event | null)[]): string[] {
  return events.map((e) => (e === null ? 'null' : `${e.id.server}/${e.id.session}/${e.id.instance}`));
}

/** Makes every commit of `backend` fail as a full disk does, until `heal()`. */
export function breakDisk(backend: LmdbBackend): { heal(): void; attempts(): number } {
  const env = backend.store.env;
  const commit = env.commit.bind(env);
  let broken = true;
  let attempts = 0;
  env.commit = async (ops) => {
    if (!broken) return commit(ops);
    attempts++;
    throw classifyWriteError(Object.assign(new Error('No space left on device'), { code: constants.errno.ENOSPC }), env.path);
  };
  return { heal: () => (broken = false), attempts: () => attempts };
}

