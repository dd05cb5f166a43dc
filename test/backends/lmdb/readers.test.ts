// Queries on reader threads (src/backends/lmdb/readers/): what they must never break. The
// answers themselves are compared with the memory backend in agrees-with-memory.test.ts.
import { describe, expect, it } from 'vitest';
import { MIN_MAP_SIZE } from '../../../src/backends/lmdb/environment.ts';
import type { Event } from '../../../src/common/types.ts';
import type { LmdbBackend } from '../../../src/backends/lmdb/backend.ts';
import { QueryLimitError } from '../../../src/backends/backend.ts';
import { readEvents, writeEvents } from '../../../src/sbs/event-codec.ts';
import { SbsReader } from '../../../src/sbs/reader.ts';
import { SbsWriter } from '../../../src/sbs/writer.ts';
import { c0, E, ids, openBackend } from './helpers.ts';

const ALL_ON_READERS = { cleanup: false, mainThreadBudget: 0, readerThreads: 2 };

/** Registers `sessions` sessions of `size` events of type `a` into `registered`, one per event-loop turn. */
async function registerSessions(backend: LmdbBackend, sessions: number, size: number, registered: Event[], each: () => void): Promise<void> {
  for (let s = 0; s < sessions; s++) {
    const events = Array.from({ length: size }, () => E('a'));
    expect(ids(await backend.register(events))).toEqual(ids(events));
    registered.push(...events);
    each();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Queries `{ order: 'ascending' }` until `until` settles. Each answer must be exactly the
 * first k registered events, in order, with k at least what was registered when the query
 * started and at most what was registered when it was answered: nothing lost or duplicated
 * while events move from pending to flushing to committed.
 */
async function checkPrefixes(backend: LmdbBackend, registered: Event[], until: Promise<unknown>): Promise<number> {
  let running = true;
  void until.finally(() => (running = false));
  let answers = 0;
  while (running) {
    const before = registered.length;
    const answer = await backend.query({ order: 'ascending' });
    expect(answer.length).toBeGreaterThanOrEqual(before);
    expect(answer.length).toBeLessThanOrEqual(registered.length);
    expect(ids(answer)).toEqual(ids(registered.slice(0, answer.length)));
    // Small (on the main thread unless every scan goes to the readers), around the newest
    // events, where pending, flushing and just committed ones meet.
    const from = Math.max(0, registered.length - 100);
    const known = registered.length;
    const window = await backend.query({ tFrom: registered[from]?.timestamp ?? null, order: 'ascending', maxResults: 200 });
    expect(window.length).toBeGreaterThanOrEqual(known - from);
    expect(ids(window)).toEqual(ids(registered.slice(from, from + window.length)));
    answers++;
  }
  return answers;
}

describe('LMDB queries on reader threads', () => {
  it('leave the main thread\'s entries in LMDB\'s lock table alone', async () => {
    const backend = await openBackend(c0(), ALL_ON_READERS);
    await backend.register([E('a'), E('a')]);
    await backend.flush();
    const root = backend.store.env.root;
    const pin = root.useReadTransaction();
    try {
      const readers = root.readerList();
      expect(readers).toContain(String(process.pid));
      // The first query starts the reader threads, which open the file themselves.
      expect(await backend.query({})).toHaveLength(2);
      expect(await backend.query({ order: 'ascending' })).toHaveLength(2);
      expect(root.readerList()).toBe(readers);
    } finally {
      pin.done();
    }
  });

  it.each([
    { placement: 'by size', options: { cleanup: false, readerThreads: 2 } },
    { placement: 'all on reader threads', options: ALL_ON_READERS },
  ])('see the events of a flush whose commit is under way (scans placed $placement)', async ({ options }) => {
    const backend = await openBackend(c0(), options);
    const committed = [E('a'), E('a')];
    await backend.register(committed);
    await backend.flush();
    const flushing = [E('a'), E('a'), E('a')];
    await backend.register(flushing);
    const flushed = backend.flush();
    // Microtasks only: the flush takes its events, and its commit (answered through the event
    // loop) cannot have finished when the queries start.
    while (backend.store.hasPending) await Promise.resolve();
    const all = [...committed, ...flushing];
    const answers = [backend.query({ order: 'ascending', maxResults: 10 }), backend.query({ order: 'ascending' })];
    await flushed;
    for (const answer of await Promise.all(answers)) expect(ids(answer)).toEqual(ids(all));
  });

  it.each([
    { placement: 'by size', options: { cleanup: false, readerThreads: 2 } },
    { placement: 'all on reader threads', options: ALL_ON_READERS },
  ])('lose and duplicate nothing while flushes commit (scans placed $placement)', async ({ options }) => {
    const backend = await openBackend(c0(), options);
    const registered: Event[] = [];
    let flushes = 0;
    const writing = registerSessions(backend, 150, 20, registered, () => {
      // Not awaited: queries start while a flush is in progress, during and after its commit.
      if (registered.length % 60 === 0) void backend.flush().then(() => flushes++);
    });
    expect(await checkPrefixes(backend, registered, writing)).toBeGreaterThan(0);
    await backend.flush();
    expect(flushes).toBeGreaterThan(0);
    expect(ids(await backend.query({ order: 'ascending' }))).toEqual(ids(registered));
  }, 60_000);

  it('keep answering while the file grows far past a tiny max_db_size (they map the writer\'s whole map)', async () => {
    const backend = await openBackend(c0({ max_db_size: 64 * 1024 }), ALL_ON_READERS);
    expect(backend.store.env.mapSize).toBe(MIN_MAP_SIZE);
    const startBytes = backend.store.env.usedBytes();
    const registered: Event[] = [];
    const writing = registerSessions(backend, 100, 40, registered, () => {
      if (registered.length % 200 === 0) void backend.flush();
    });
    expect(await checkPrefixes(backend, registered, writing)).toBeGreaterThan(0);
    await backend.flush();
    expect(backend.store.env.usedBytes()).toBeGreaterThan(Math.max(startBytes, 64 * 1024));
    expect(ids(await backend.query({ order: 'ascending' }))).toEqual(ids(registered));
  }, 60_000);
});

describe('LMDB query answers', () => {
  it('close after the scans in flight end (ending a thread inside lmdb-js would abort the process)', async () => {
    const backend = await openBackend(c0(), ALL_ON_READERS);
    const events = Array.from({ length: 2000 }, () => E('a'));
    await backend.register(events);
    await backend.flush();
    const answers = Array.from({ length: 4 }, () => backend.query({ order: 'ascending' }));
    await backend.close();
    for (const answer of await Promise.all(answers)) expect(ids(answer)).toEqual(ids(events));
    await expect(backend.query({})).rejects.toThrow(/closed/);
  });

  it.each([
    { placement: 'by size', options: { cleanup: false, readerThreads: 1 } },
    { placement: 'all on reader threads', options: { ...ALL_ON_READERS, readerThreads: 1 } },
  ])('above max_query_results fail whole; a page of at most that many does not (scans placed $placement)', async ({ options }) => {
    const backend = await openBackend(c0({ max_query_results: 5 }), options);
    const events = Array.from({ length: 6 }, () => E('a'));
    await backend.register(events);
    for (const stage of ['pending', 'committed', 'half committed']) {
      if (stage === 'committed') await backend.flush();
      if (stage === 'half committed') await backend.register([E('b'), E('b')]);
      const error = await backend.query({}).catch((err: unknown) => err);
      expect(error, stage).toBeInstanceOf(QueryLimitError);
      expect(String(error)).toMatch(/max_query_results \(5 events\)/);
      await expect(backend.queryEncoded({ order: 'ascending' })).rejects.toThrow(QueryLimitError);
      expect(ids(await backend.query({ maxResults: 5, order: 'ascending' }))).toEqual(ids(events.slice(0, 5)));
      expect(await backend.query({ types: [['a']], tFrom: events[1]!.timestamp })).toHaveLength(5);
    }
    expect(await backend.query({ types: [['b']] })).toHaveLength(2);
  });

  it.each([
    { placement: 'by size', options: { cleanup: false, readerThreads: 1 } },
    { placement: 'all on reader threads', options: { ...ALL_ON_READERS, readerThreads: 1 } },
  ])('encoded are the bytes the eventer sent for query() before (scans placed $placement)', async ({ options }) => {
    const backend = await openBackend(c0(), options);
    const json = { type: 'json' as const, data: { v: [1, 'x'], k: null } };
    const committed = [E('a', { payload: json }), E('b', { payload: { type: 'binary', data: Uint8Array.of(1, 2, 3) } }), E('a.c')];
    await backend.register(committed);
    await backend.flush();
    const pending = [E('a', { payload: json }), E('c', { sourceTimestamp: null })];
    await backend.register(pending);
    for (const q of [{}, { order: 'ascending' as const }, { types: [['a', '*']] }, { uniqueType: true, order: 'ascending' as const }, { maxResults: 2 }]) {
      const events = await backend.query(q);
      const encoded = await backend.queryEncoded(q);
      const sent = new SbsWriter(1024);
      sent.arrayLength(encoded.count);
      for (const chunk of encoded.chunks) sent.raw(chunk);
      const before = new SbsWriter(1024);
      writeEvents(before, events);
      expect(ids(readEvents(new SbsReader(sent.finish()))), JSON.stringify(q)).toEqual(ids(events));
      expect(Buffer.from(sent.finish()).equals(Buffer.from(before.finish())), JSON.stringify(q)).toBe(true);
    }
  });
});
