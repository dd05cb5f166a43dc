// The same module in plain JavaScript.
import { Subscription } from 'hat-event-ts';

export const confSchema = { type: 'object', required: ['tag'], properties: { tag: { type: 'string' } } };

export function create(conf) {
  return {
    subscription: new Subscription([['measurement', '*']]),
    *process(_source, event) {
      yield { type: ['tagged', conf.tag, ...event.type.slice(1)], sourceTimestamp: null, payload: { type: 'json', data: { tag: conf.tag, payload: event.payload?.type ?? null } } };
    },
  };
}
