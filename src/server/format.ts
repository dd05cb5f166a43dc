// Short text forms for logs.
import type { EventId } from '../common/types.ts';

export const formatEventId = (id: EventId): string => `${id.server}/${id.session}/${id.instance}`;
