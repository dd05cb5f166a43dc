// Placement must not change results: random sessions through chained modules give the same events
// (ids, order, types, payloads) with every module on the main thread, in its own worker, or pooled.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEngine } from '../../src/engine/index.ts';
import type { Event, RegisterEvent } from '../../src/common/types.ts';
import { EVENTER, fixtures, recordingBackend } from './helpers.ts';

const chains = [
  { from: 'a', to: 'b', fanout: 2 },
  { from: 'b', to: 'c', fanout: 1 },
  { from: 'a', to: 'c', fanout: 3 },
];

const registerEvent: fc.Arbitrary<RegisterEvent> = fc.record({
  type: fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constantFrom('x', 'y', '')).map(([head, tail]) => [head, tail]),
  sourceTimestamp: fc.option(fc.record({ s: fc.integer({ min: 0, max: 2e9 }), us: fc.integer({ min: 0, max: 999999 }) }), { nil: null }),
  payload: fc.option(fc.integer({ min: 0, max: 1000 }).map((data) => ({ type: 'json' as const, data })), { nil: null }),
});

const sessions = fc.array(fc.array(registerEvent, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 });

/** Everything but the timestamps, which depend on the clock. */
function comparable(events: Event[]) {
  return events.map(({ id, type, sourceTimestamp, payload }) => ({ id, type, sourceTimestamp, payload }));
}

async function start(workers: number) {
  const backend = await recordingBackend();
  const modules = chains.map((chain) => ({ module: 'chain.ts', workers, ...chain }));
  const engine = await createEngine({ server_id: 1, modules }, backend, { baseDir: fixtures });
  // Wait until the STARTED session is stored, so each property run sees only its own sessions.
  while (backend.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  return { backend, engine };
}

describe('placement equivalence', () => {
  it('workers 0, 1 and 3 produce identical sessions', async () => {
    // One engine per placement for the whole property run (threads are costly to start); each gets
    // the same sessions in the same order, so ids must stay in step too.
    const placements = await Promise.all([0, 1, 3].map(start));
    try {
      await fc.assert(
        fc.asyncProperty(sessions, async (input) => {
          const outcomes = [];
          for (const { backend, engine } of placements) {
            const before = backend.calls.length;
            const results = [];
            for (const session of input) results.push(comparable((await engine.register(EVENTER, session)) as Event[]));
            outcomes.push({ results, stored: comparable(backend.calls.slice(before).flat()) });
          }
          expect(outcomes[0]!.stored.length).toBeGreaterThanOrEqual(input.flat().length);
          expect(outcomes[1]).toEqual(outcomes[0]);
          expect(outcomes[2]).toEqual(outcomes[0]);
        }),
        { numRuns: 25 },
      );
    } finally {
      await Promise.all(placements.map(({ engine }) => engine.close()));
    }
  }, 120_000); // starting 3 + 9 threads from TypeScript sources takes seconds on 2 cores
});
