// One session: ids and one timestamp for the submitted events, then rounds in which every module
// processes (concurrently, each in its own place) the round's events that match its subscription.
// Outputs get ids in module order, then input order — exactly what sequential execution gives.
import type { Event, EventId, RegisterEvent, Source, Timestamp } from '../common/types.ts';
import { now } from '../common/timestamp.ts';
import { inOrder, type ModuleHost } from './hosts/module-host.ts';
import { countedStop, type RoundMetrics } from './engine-metrics.ts';

function toEvent(reg: RegisterEvent, last: EventId, timestamp: Timestamp): Event {
  last.instance += 1;
  return {
    id: { server: last.server, session: last.session, instance: last.instance },
    type: reg.type,
    timestamp,
    sourceTimestamp: reg.sourceTimestamp,
    payload: reg.payload,
  };
}

/**
 * Runs a session; `last` is advanced in place (ids are consumed even if the session fails).
 * `rounds[m]` times host m's rounds and counts its failures. `listen` is called once the requests
 * of every round but the first are out (the engine calls it for the first itself, after starting
 * the previous session's store).
 */
export async function runSession(
  hosts: readonly ModuleHost[],
  rounds: readonly RoundMetrics[],
  last: EventId,
  source: Source,
  registerEvents: readonly RegisterEvent[],
  listen: () => void = () => {},
): Promise<Event[]> {
  last.session += 1;
  const timestamp = now();
  const session: Event[] = registerEvents.map((reg) => toEvent(reg, last, timestamp));
  let events = session.slice();
  let sources: Source[] = events.map(() => source);

  for (let round = 0; events.length > 0 && hosts.length > 0; round++) {
    const working: number[] = []; // the modules that take part in this round
    const work: AsyncIterable<RegisterEvent[]>[] = [];
    hosts.forEach((host, m) => {
      // Copies start at the first event the module does not take: a '*' module gets the round's
      // arrays themselves.
      let matched: Event[] | null = null;
      let matchedSources: Source[] = [];
      let count = 0;
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as Event;
        if (host.subscription.matches(event.type)) {
          count++;
          if (matched) {
            matched.push(event);
            matchedSources.push(sources[i] as Source);
          }
        } else if (!matched) {
          matched = events.slice(0, i);
          matchedSources = sources.slice(0, i);
        }
      }
      if (count === 0) return;
      working.push(m);
      work.push(host.process(last.session, matched ? matchedSources : sources, matched ?? events));
    });
    const nextEvents: Event[] = [];
    const nextSources: Source[] = [];
    // Outputs get their ids as they arrive, in module order (a later module's wait in memory).
    // A module's round is timed from here to its last output.
    const start = performance.now();
    const answered = inOrder(work, (k, batch) => {
      const moduleSource: Source = { type: 'module', id: working[k] as number };
      for (const reg of batch) {
        const event = toEvent(reg, last, timestamp);
        session.push(event);
        nextEvents.push(event);
        nextSources.push(moduleSource);
      }
    }, (k, failed) => {
      const metrics = rounds[working[k]!]!;
      if (failed) metrics.failures.inc();
      else metrics.duration.observe((performance.now() - start) / 1000);
    });
    if (round > 0) listen();
    await answered;
    events = nextEvents;
    sources = nextSources;
  }

  const stops = hosts.flatMap((host, m) => (host.hasSessionHooks ? [countedStop(host.stopSession(last.session), rounds[m]!)] : []));
  for (const outcome of await Promise.allSettled(stops)) if (outcome.status === 'rejected') throw outcome.reason;
  return session;
}
