// hat-monitor's SBS repository: chatter's modules and HatMonitor. A monitor connection refuses
// every other module (an eventer or syncer message on it is a protocol error), as Hat's does.
import { CHATTER_TYPES, sbsTypes, type SbsTypes } from './modules.ts';
import { MONITOR_MODULE, MonitorMsg } from './monitor-messages.ts';

export const HAT_MONITOR_TYPES: SbsTypes = new Map([...CHATTER_TYPES, ...sbsTypes({ [MONITOR_MODULE]: MonitorMsg })]);
