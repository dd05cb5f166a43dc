// The Syncer's status events (docs/protocol.md, Syncer, "Status events"): registered through the engine, so they get
// ids, reach modules and eventer subscribers, and are synced to peers like any other event.
import type { Event, RegisterEvent, Source } from '../common/types.ts';
import type { Logger } from '../common/logger.ts';
import { describeError } from '../common/describe-error.ts';

/** What the Syncer needs of an engine to register its status events; the engine satisfies it. */
export interface StatusRegistrar {
  register(source: Source, events: RegisterEvent[]): Promise<(Event | null)[]>;
}

export const SYNCER_SOURCE: Source = { type: 'syncer', id: 0 };

/** One connected client of a Syncer server, as its status event lists it. */
export interface SyncerClientInfo {
  clientName: string;
  synced: boolean;
}

/** `['event','syncer','server']`: every connected client (after its MsgReq) with its synced flag. */
export function serverStatusEvent(clients: readonly SyncerClientInfo[]): RegisterEvent {
  return {
    type: ['event', 'syncer', 'server'],
    sourceTimestamp: null,
    // Key order as in Hat (client_name, then synced); the text is Python's json.dumps form.
    payload: { type: 'json', data: clients.map((c) => ({ client_name: c.clientName, synced: c.synced })) },
  };
}

/** `['event','syncer','client', <peer server id>, 'synced']`: false when a backlog starts, true on MsgSynced. */
export function clientSyncedEvent(peerServerId: number, synced: boolean): RegisterEvent {
  return {
    type: ['event', 'syncer', 'client', String(peerServerId), 'synced'],
    sourceTimestamp: null,
    payload: { type: 'json', data: synced },
  };
}

/**
 * Registers one status event as its own session. Calls keep their order (the engine takes
 * requests in order); a failure is logged, never thrown: status is informational. Resolves once
 * registered (or not).
 */
export async function registerStatus(registrar: StatusRegistrar, event: RegisterEvent, log: Logger): Promise<void> {
  try {
    await registrar.register(SYNCER_SOURCE, [event]);
  } catch (err) {
    log.warning('status event not registered', { type: event.type.join('/'), error: describeError(err) });
  }
}
