// What an eventer client sends, checked at the edge before anything reaches the engine: nothing
// a client sends may stop the server. A register request is judged event by event — an event
// that cannot be stored faithfully is refused on its own (null in the response, a log line) and
// the rest goes on. A subscribe or query that cannot be answered as sent closes the connection
// (the protocol has no error reply; Hat closes it too).
import type { EventType, JsonPayload, RegisterEvent } from '../common/types.ts';
import type { CompleteQueryData } from '../common/query-data.ts';
import { sift, type Sifted } from '../common/event-check.ts';
import { DEFAULT_MAX_JSON_DEPTH, jsonTextDepth } from '../common/json-depth.ts';
import { Subscription } from '../common/subscription.ts';
import { describeError } from '../common/describe-error.ts';
import { SbsReader } from '../sbs/reader.ts';
import { readRegisterEvent, readEventTypes } from '../sbs/event-codec.ts';
import { readQueryData } from '../sbs/query-codec.ts';

export interface IncomingRules {
  /** deepest JSON nesting accepted in a payload or in a query's payload filter */
  maxJsonDepth: number;
  /** let clients register under the server's own `['event', ...]` types (Hat does; default false) */
  allowReservedTypes: boolean;
}

export const DEFAULT_INCOMING_RULES: IncomingRules = { maxJsonDepth: DEFAULT_MAX_JSON_DEPTH, allowReservedTypes: false };

/** First segment of the types the server registers itself (engine, eventer and syncer status). */
export const RESERVED_TYPE_PREFIX = 'event';

/** A message refused as a whole: the connection closes with this reason. */
export class RefusedMessage extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedMessage';
  }
}

/** Told the element count of each array before it is built (memory accounting; may throw to stop). */
export type ArrayCounter = (count: number) => void;

/** MsgRegisterReq: the events that may be registered, and why the others may not. */
export function readRegisterRequest(data: Uint8Array, rules: IncomingRules, count?: ArrayCounter): Sifted<RegisterEvent> {
  const r = lenientReader(data, count);
  const events = new Array<RegisterEvent>(r.arrayLength(3)); // a RegisterEvent takes at least 3 bytes
  const problems = new Array<string | null>(events.length);
  for (let i = 0; i < events.length; i++) {
    r.problem = null;
    events[i] = readRegisterEvent(r);
    problems[i] = r.problem === null ? eventProblem(events[i]!, rules) : (r.problem as Error).message;
  }
  return sift(events, (_, i) => problems[i]!);
}

/** MsgSubscribe, as the subscription it asks for. */
export function readSubscribeRequest(data: Uint8Array, count?: ArrayCounter): Subscription {
  const r = new SbsReader(data);
  r.onArray = count ?? null;
  return subscription(readEventTypes(r), 'subscription');
}

/**
 * MsgQueryReq. Integers beyond 2^53 arrive as the nearest double: nothing stored is that large,
 * so every comparison with stored events (ids, times, server id, max results) comes out as Hat's.
 */
export function readQueryRequest(data: Uint8Array, rules: IncomingRules, count?: ArrayCounter): CompleteQueryData {
  const r = lenientReader(data, count);
  const query = readQueryData(r);
  if (r.problem?.kind === 'invalid-utf8') throw new RefusedMessage(`query: ${r.problem.message}`);
  if (query.types !== null) subscription(query.types, 'query types');
  if (query.payload?.type === 'json') {
    const problem = jsonProblem(query.payload, rules.maxJsonDepth);
    if (problem !== null) throw new RefusedMessage(`query payload filter: ${problem}`);
  }
  return query;
}

function lenientReader(data: Uint8Array, count: ArrayCounter | undefined): SbsReader {
  const r = new SbsReader(data);
  r.lenient = true;
  r.onArray = count ?? null;
  return r;
}

function eventProblem(event: RegisterEvent, rules: IncomingRules): string | null {
  if (!rules.allowReservedTypes && event.type[0] === RESERVED_TYPE_PREFIX) {
    return `type ${JSON.stringify(event.type)} is reserved for the server's own status events`;
  }
  return event.payload?.type === 'json' ? jsonProblem(event.payload, rules.maxJsonDepth) : null;
}

/** Nesting first (a linear scan), then validity: parsing caches the value for later use. */
function jsonProblem(payload: JsonPayload, maxDepth: number): string | null {
  const depth = jsonTextDepth(payload.text ?? '');
  if (depth > maxDepth) return `JSON nested ${depth} deep, deeper than the limit of ${maxDepth} (max_json_depth)`;
  try {
    void payload.data;
  } catch (err) {
    return `invalid JSON payload: ${describeError(err)}`;
  }
  return null;
}

function subscription(types: EventType[], what: string): Subscription {
  try {
    return new Subscription(types);
  } catch (err) {
    throw new RefusedMessage(`${what}: ${describeError(err)}`);
  }
}
