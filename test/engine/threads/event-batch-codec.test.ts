// The thread-crossing batch form must carry every event exactly, including JSON payload text.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RegisterEventChunk, SharedBatch, decodeRegisterEvents, decodeRound, encodeRound } from '../../../src/engine/threads/event-batch-codec.ts';
import { jsonPayloadFromText } from '../../../src/common/json-payload.ts';
import type { Event, EventPayload, RegisterEvent, Source } from '../../../src/common/types.ts';

const timestamp = fc.record({ s: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), us: fc.integer({ min: 0, max: 999999 }) });
const payload: fc.Arbitrary<EventPayload | null> = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 50 }).map((data) => ({ type: 'binary' as const, data })),
  fc.jsonValue().map((data) => ({ type: 'json' as const, data: JSON.parse(JSON.stringify(data)) })),
  fc.record({ module: fc.option(fc.string(), { nil: null }), type: fc.string(), data: fc.uint8Array({ maxLength: 20 }) }).map((data) => ({
    type: 'sbs' as const,
    data,
  })),
);
const event: fc.Arbitrary<Event> = fc.record({
  id: fc.record({ server: fc.nat(), session: fc.maxSafeNat(), instance: fc.maxSafeNat() }),
  type: fc.array(fc.string({ unit: 'binary' }), { maxLength: 6 }),
  timestamp,
  sourceTimestamp: fc.option(timestamp, { nil: null }),
  payload,
});
/** Module outputs as a thread writes them: one chunk, here in a buffer that grows. */
function encodeRegisterEvents(events: readonly RegisterEvent[]): Uint8Array {
  const chunk = new RegisterEventChunk(new SharedBatch(64));
  for (const event of events) expect(chunk.add(event)).toBe(true);
  return chunk.finish();
}

const source: fc.Arbitrary<Source> = fc.record({
  type: fc.constantFrom('syncer' as const, 'eventer' as const, 'module' as const, 'engine' as const),
  id: fc.nat(),
});

describe('event batch codec', () => {
  it('round-trips random events with their sources', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(event, source), { maxLength: 40 }), (pairs) => {
        const events = pairs.map(([e]) => e);
        const sources = pairs.map(([, s]) => s);
        const decoded = decodeRound(encodeRound(events, sources));
        expect(decoded.events).toEqual(events);
        expect(decoded.sources).toEqual(sources);
      }),
    );
  });

  it('round-trips register events (no ids)', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 20 }), (events) => {
        const registerEvents = events.map(({ type, sourceTimestamp, payload }) => ({ type, sourceTimestamp, payload }));
        expect(decodeRegisterEvents(encodeRegisterEvents(registerEvents))).toEqual(registerEvents);
      }),
    );
  });

  it('keeps the exact text of a JSON payload that has one', () => {
    const text = '{"a": 1.0, "big": 123456789012345678901234567890}';
    const [decoded] = decodeRegisterEvents(
      encodeRegisterEvents([{ type: ['t'], sourceTimestamp: null, payload: jsonPayloadFromText(text) }]),
    );
    expect(decoded?.payload?.type).toBe('json');
    expect((decoded?.payload as { text?: string }).text).toBe(text);
  });

  it('JSON numbers cross as numbers, exactly as on the main thread', () => {
    const values = [0, -0, 1.5, -273.15, 2 ** 53 - 1, 1e-300, Number.MAX_VALUE];
    const decoded = decodeRegisterEvents(
      encodeRegisterEvents(values.map((data) => ({ type: ['m'], sourceTimestamp: null, payload: { type: 'json' as const, data } }))),
    );
    expect(decoded.map((e) => (e.payload?.type === 'json' ? e.payload.data : undefined))).toEqual(values);
    expect(Object.is((decoded[1]?.payload as { data: number }).data, -0)).toBe(true);
  });

  it('copies only the viewed bytes of a payload that is a view into a larger buffer', () => {
    const big = new Uint8Array(8192).fill(7);
    const view = big.subarray(100, 103);
    const bytes = encodeRegisterEvents([{ type: ['t'], sourceTimestamp: null, payload: { type: 'binary', data: view } }]);
    expect(bytes.byteLength).toBeLessThan(100);
    const [decoded] = decodeRegisterEvents(bytes);
    expect(decoded?.payload).toEqual({ type: 'binary', data: new Uint8Array([7, 7, 7]) });
  });

  it('a chunk of fixed size takes events while they fit, and refuses the next without writing it', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 30 }), fc.integer({ min: 5, max: 600 }), (events, size) => {
        const registerEvents = events.map(({ type, sourceTimestamp, payload }) => ({ type, sourceTimestamp, payload }));
        const region = new Uint8Array(new SharedArrayBuffer(size + 16), 8, size); // a window into a larger buffer
        const chunk = new RegisterEventChunk(region);
        let taken = 0;
        while (taken < registerEvents.length && chunk.add(registerEvents[taken]!)) taken++;
        const bytes = chunk.finish();
        expect(bytes.length).toBeLessThanOrEqual(size);
        expect(decodeRegisterEvents(bytes)).toEqual(registerEvents.slice(0, taken));
        if (taken < registerEvents.length) {
          // What did not fit goes into the next chunk, after the ones before it.
          chunk.reset();
          const alone = new RegisterEventChunk(new SharedBatch(8));
          expect(alone.add(registerEvents[taken]!)).toBe(true);
          expect(decodeRegisterEvents(alone.finish())).toEqual([registerEvents[taken]]);
        }
      }),
    );
  });

  it('an empty chunk has no bytes, and no events', () => {
    const bytes = new RegisterEventChunk(new Uint8Array(64)).finish();
    expect(bytes.length).toBe(0);
    expect(decodeRegisterEvents(bytes)).toEqual([]);
  });

  it('refuses corrupt input', () => {
    const bytes = encodeRegisterEvents([{ type: ['t'], sourceTimestamp: null, payload: null }]);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeRegisterEvents(longer)).toThrow(/trailing bytes/);
  });
});
