import { describe, expect, it } from 'vitest';
import { createDummyBackend } from '../../src/backends/dummy.ts';
import type { Event } from '../../src/common/index.ts';

const event = (instance: number): Event => ({
  id: { server: 5, session: 1, instance },
  type: ['a', String(instance)],
  timestamp: { s: 100 + instance, us: 0 },
  sourceTimestamp: null,
  payload: { type: 'json', data: instance },
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('dummy backend', () => {
  it('case 16: last id, register, query and queryFlushed', async () => {
    const backend = await createDummyBackend();
    expect(await backend.getLastEventId(5)).toEqual({ server: 5, session: 0, instance: 0 });
    const events = [1, 2, 3, 4, 5].map(event);
    expect(await backend.register(events)).toEqual(events);
    expect(await backend.getLastEventId(5)).toEqual({ server: 5, session: 0, instance: 0 });
    expect(await backend.query({})).toEqual([]);
    expect(await collect(backend.queryFlushed({ server: 5, session: 0, instance: 0 }))).toEqual([]);
    await backend.close();
  });

  it('never calls flushed callbacks; unsubscribe is a function', async () => {
    const backend = await createDummyBackend({ ignored: true });
    const calls: Event[][] = [];
    const unsubscribe = backend.onFlushed((events) => calls.push(events));
    await backend.register([event(1)]);
    await backend.flush();
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([]);
    unsubscribe();
    await backend.close();
  });

  it('rejects malformed queries', async () => {
    const backend = await createDummyBackend();
    await expect(backend.query({ order: 'up' as never })).rejects.toThrow(/order/);
    await backend.close();
  });

  it('close is idempotent; afterwards register and query reject clearly', async () => {
    const backend = await createDummyBackend();
    await backend.close();
    await backend.close();
    await expect(backend.register([event(1)])).rejects.toThrow(/dummy backend is closed/);
    await expect(backend.query({})).rejects.toThrow(/closed/);
    await expect(collect(backend.queryFlushed({ server: 5, session: 0, instance: 0 }))).rejects.toThrow(/closed/);
  });
});
