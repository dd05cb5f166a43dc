// The SBS types a peer knows (docs/protocol.md, "Hat's fixed SBS modules"): a message naming any other (module, type)
// closes the connection. Chatter knows its own modules; a service gives its connections the
// repository it speaks (hat-event-types.ts), as Hat gives its chatter connections an sbs.Repository.
import { HAT_MODULE, HatMsgTypes } from './hat-messages.ts';
import { PING_MODULE, PingMsg } from './ping-messages.ts';

/** Module name to its message type names. */
export type SbsTypes = ReadonlyMap<string, ReadonlySet<string>>;

/** From each module's name to its message names, as the `*Msg` constants spell them. */
export function sbsTypes(modules: Record<string, Record<string, string>>): SbsTypes {
  return new Map(Object.entries(modules).map(([module, types]) => [module, new Set(Object.values(types))]));
}

/** Chatter's own modules. */
export const CHATTER_TYPES = sbsTypes({ [HAT_MODULE]: HatMsgTypes, [PING_MODULE]: PingMsg });
