// A module written outside the package, as a user writes one: values and types from 'hat-event-ts'.
import { Subscription, type Event, type Module, type ModuleConf, type RegisterEvent, type Source } from 'hat-event-ts';

export const confSchema = { type: 'object', required: ['tag'], properties: { tag: { type: 'string' } } };

export function create(conf: ModuleConf): Module {
  const tag = conf['tag'] as string;
  return {
    subscription: new Subscription([['measurement', '*']]),
    *process(_source: Source, event: Event): Iterable<RegisterEvent> {
      yield { type: ['tagged', tag, ...event.type.slice(1)], sourceTimestamp: null, payload: { type: 'json', data: { tag, payload: event.payload?.type ?? null } } };
    },
  };
}
