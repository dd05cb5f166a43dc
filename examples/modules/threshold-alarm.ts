// An example module: watches measurements and registers an alarm when one is above a limit.
//
// Configuration (an entry of engine.modules):
//   module: ./modules/threshold-alarm.ts
//   threshold: 80                # alarm when a measurement's JSON number is above this
//   measurements: [measurement]  # prefix of the event types to watch (default [measurement])
//   alarms: [alarm]              # prefix of the alarm event types (default [alarm])
//
// A measurement `[measurement, room1, temperature]` with payload 85 makes the module register
// `[alarm, room1, temperature]` with payload {"value": 85, "threshold": 80} in the same session.
// The module keeps no state between events, so it can run pooled (workers: N).
import type { Event, EventType, RegisterEvent, Source } from '../../src/common/types.ts';
import type { Module, ModuleConf } from '../../src/engine/types.ts';

interface ThresholdAlarmConf extends ModuleConf {
  threshold: number;
  measurements: string[];
  alarms: string[];
}

/** Checked by the server before anything starts; defaults are filled in from here. */
export const confSchema = {
  type: 'object',
  required: ['threshold'],
  properties: {
    threshold: { type: 'number' },
    measurements: { type: 'array', items: { type: 'string' }, default: ['measurement'] },
    alarms: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['alarm'] },
  },
};

export const stateless = true;

export function create(conf: ModuleConf): Module {
  const { threshold, measurements, alarms } = conf as ThresholdAlarmConf;
  const subscription: EventType[] = [[...measurements, '*']];
  return {
    subscription,
    *process(_source: Source, event: Event): Iterable<RegisterEvent> {
      const payload = event.payload;
      if (payload?.type !== 'json' || typeof payload.data !== 'number' || payload.data <= threshold) return;
      yield {
        type: [...alarms, ...event.type.slice(measurements.length)],
        sourceTimestamp: event.sourceTimestamp,
        payload: { type: 'json', data: { value: payload.data, threshold } },
      };
    },
  };
}
