// SYSTEM sub-db: per server, the last accepted event id and timestamp. The in-memory cache is
// authoritative (it includes unflushed registrations); pending rows are written at flush.
import type { EventId, Timestamp } from '../../common/types.ts';
import type { Environment, WriteOp } from './environment.ts';
import { readSystemValue, readU64, systemValue, u64Bytes } from './keys.ts';

interface SystemEntry {
  id: EventId;
  /** null: nothing registered yet (Hat's (−2^63, 0) sentinel) */
  timestamp: Timestamp | null;
}

export class SystemDb {
  readonly #cache = new Map<number, SystemEntry>();
  #pending = new Map<number, SystemEntry>();

  constructor(env: Environment) {
    for (const { key, value } of env.dbs.SYSTEM.getRange()) {
      const { id, timestamp } = readSystemValue(value);
      this.#cache.set(readU64(key, 0), { id, timestamp });
    }
  }

  get(server: number): SystemEntry {
    return this.#cache.get(server) ?? { id: { server, session: 0, instance: 0 }, timestamp: null };
  }

  set(id: EventId, timestamp: Timestamp): void {
    const entry = { id, timestamp };
    this.#cache.set(id.server, entry);
    this.#pending.set(id.server, entry);
  }

  /** Hands the pending rows to a flush; `restore` puts them back if the flush fails. */
  takePending(): Map<number, SystemEntry> {
    const pending = this.#pending;
    this.#pending = new Map();
    return pending;
  }

  restore(pending: Map<number, SystemEntry>): void {
    for (const [server, entry] of pending) if (!this.#pending.has(server)) this.#pending.set(server, entry);
  }

  writeOps(pending: Map<number, SystemEntry>): WriteOp[] {
    return [...pending].map(([server, { id, timestamp }]) => ({
      db: 'SYSTEM',
      key: u64Bytes(server),
      value: systemValue(id, timestamp!),
    }));
  }
}
