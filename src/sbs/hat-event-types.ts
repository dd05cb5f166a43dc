// hat-event's SBS repository: chatter's modules, HatEventer and HatSyncer. Hat's eventer and syncer
// share one repository, so a peer that names the other protocol's message is refused by the
// service (which says so), not by chatter.
import { CHATTER_TYPES, sbsTypes, type SbsTypes } from './modules.ts';
import { EVENTER_MODULE, EventerMsg } from './eventer-messages.ts';
import { SYNCER_MODULE, SyncerMsg } from './syncer-messages.ts';

export const HAT_EVENT_TYPES: SbsTypes = new Map([
  ...CHATTER_TYPES,
  ...sbsTypes({ [EVENTER_MODULE]: EventerMsg, [SYNCER_MODULE]: SyncerMsg }),
]);
