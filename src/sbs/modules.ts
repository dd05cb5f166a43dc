// The SBS types a chatter peer knows (spec/protocol.md 2.5): a message naming any other
// (module, type) closes the connection.
import { EVENTER_MODULE, EventerMsg } from './eventer-messages.ts';
import { SYNCER_MODULE, SyncerMsg } from './syncer-messages.ts';
import { MONITOR_MODULE, MonitorMsg } from './monitor-messages.ts';

export const HAT_MODULE = 'Hat';
export const PING_MODULE = 'HatPing';
export const PingMsg = { ping: 'MsgPing', pong: 'MsgPong' } as const;

const KNOWN_TYPES: ReadonlyMap<string, ReadonlySet<string>> = new Map<string, ReadonlySet<string>>([
  [HAT_MODULE, new Set(['Msg', 'Data'])],
  [PING_MODULE, new Set(Object.values(PingMsg))],
  [EVENTER_MODULE, new Set(Object.values(EventerMsg))],
  [SYNCER_MODULE, new Set(Object.values(SyncerMsg))],
  [MONITOR_MODULE, new Set(Object.values(MonitorMsg))],
]);

export function isKnownSbsType(module: string | null, type: string): boolean {
  return module !== null && (KNOWN_TYPES.get(module)?.has(type) ?? false);
}
