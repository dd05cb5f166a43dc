// `hat-event-ts lmdb` as a real process on files written by a real server: query while the
// server runs, copy and serve the copy, verify a file with a broken ref, an interrupted copy,
// and bad input (one line, exit status, nothing written).
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { open } from 'lmdb';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { jsonPayloadFromText } from '../../src/common/json-payload.ts';
import { Environment } from '../../src/backends/lmdb/environment.ts';
import { eventIdBytes, orderedKey } from '../../src/backends/lmdb/keys.ts';
import { latestRef } from '../../src/backends/lmdb/refs.ts';
import { openLmdbBackend } from '../../src/backends/lmdb/backend.ts';
import type { Event, RegisterEvent } from '../../src/common/types.ts';
import { cleanup, jsonLines, lmdbConf, runCli, spawnCli, tempDir, writeConf, type CliProcess } from './helpers.ts';

const clients: EventerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await cleanup();
});

/** A server (every register durable before its answer) on `dir/data/events.db`. */
async function startServer(dir: string, dbPath = './data/events.db'): Promise<{ server: CliProcess; client: EventerClient; db: string }> {
  const conf = lmdbConf({ flush_period: 0 });
  (conf['backend'] as Record<string, unknown>)['db_path'] = dbPath;
  const server = spawnCli(['server', '--conf', await writeConf(dir, conf)], { cwd: dir });
  const client = await connectEventer(await server.address());
  clients.push(client);
  // One round trip: the server command installs its signal handlers just after its last start
  // line, and a SIGTERM before that would end it uncleanly.
  await client.query({ types: [], maxResults: 0 });
  return { server, client, db: path.resolve(dir, dbPath) };
}

async function stop(server: CliProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

const TEST_EVENTS: RegisterEvent[] = [
  { type: ['test', 'a'], sourceTimestamp: { s: 1_700_000_000, us: 5 }, payload: jsonPayloadFromText('{"v": 1.0, "big": 12345678901234567890}') },
  { type: ['test', 'b'], sourceTimestamp: null, payload: { type: 'binary', data: Uint8Array.of(1, 2, 255) } },
  { type: ['test', 'a'], sourceTimestamp: null, payload: { type: 'sbs', data: { module: 'M', type: 'T', data: Uint8Array.of(7) } } },
];

const idOf = (e: Event | null) => ({ server: e!.id.server, session: e!.id.session, instance: e!.id.instance });

describe('hat-event-ts lmdb query', () => {
  it('reads the file of a running server, which keeps serving; every query and filter', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const { client, db } = await startServer(dir);
    const [a1, b, a2] = (await client.registerWithResponse(TEST_EVENTS)) as Event[];
    const lmdb = (...args: string[]) => runCli(['lmdb', 'query', '--db', db, ...args], { cwd: dir });

    const ordered = await lmdb('ordered', '--event-type', 'test/*');
    expect(ordered.code).toBe(0);
    const lines = ordered.stdout.trim().split('\n');
    expect(jsonLines(ordered.stdout)).toMatchObject([
      { event_id: idOf(a1), event_type: ['test', 'a'], source_timestamp: '2023-11-14T22:13:20.000005Z', payload: { type: 'JSON' } },
      { event_id: idOf(b), event_type: ['test', 'b'], source_timestamp: null, payload: { type: 'BINARY', data: '0102ff' } },
      { event_id: idOf(a2), payload: { type: 'SBS', data: { module: 'M', type: 'T', data: '07' } } },
    ]);
    // the JSON payload as stored, digit for digit
    expect(lines[0]).toContain('"payload":{"type":"JSON","data":{"v": 1.0, "big": 12345678901234567890}}');
    expect((jsonLines(ordered.stdout)[0] as { timestamp: string }).timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    expect(jsonLines((await lmdb('ordered', '--limit', '1')).stdout)).toMatchObject([{ event_type: ['event', 'engine'], payload: { data: 'STARTED' } }]);
    expect(jsonLines((await lmdb('ordered', '--partition-id', '2')).stdout)).toEqual([]);
    expect(jsonLines((await lmdb('ordered', '--event-type', 'test/b', '--event-type', 'event/engine')).stdout)).toHaveLength(2);
    expect(jsonLines((await lmdb('latest', '--event-type', 'test/?')).stdout)).toMatchObject([{ event_id: idOf(a2) }, { event_id: idOf(b) }]);
    expect(jsonLines((await lmdb('latest', '--session-id', String(a2.id.session), '--instance-id', String(a2.id.instance))).stdout))
      .toMatchObject([{ event_id: idOf(a2) }]);
    expect(jsonLines((await lmdb('latest', '--server-id', '2')).stdout)).toEqual([]);
    expect(jsonLines((await lmdb('last-event-id')).stdout)).toEqual([
      { server_id: 1, event_id: idOf(a2), timestamp: (jsonLines(ordered.stdout)[2] as { timestamp: string }).timestamp },
    ]);
    expect(jsonLines((await lmdb('partition')).stdout)).toEqual([{ partition_id: 1, order: 1, subscriptions: [['*']], count: 5 }]);
    const indented = await lmdb('latest', '--event-type', 'test/b', '--indent');
    expect(indented.stdout.split('\n').length).toBeGreaterThan(10);
    expect(JSON.parse(indented.stdout)).toMatchObject({ event_id: idOf(b) });

    // the server was neither blocked nor disturbed: it registers, and the file shows it
    const [later] = await client.registerWithResponse([{ type: ['test', 'c'], sourceTimestamp: null, payload: null }]);
    expect(later).not.toBeNull();
    expect(jsonLines((await lmdb('ordered', '--event-type', 'test/c')).stdout)).toMatchObject([{ event_id: idOf(later!) }]);
  });
});

describe('hat-event-ts lmdb copy', () => {
  it('copies a running server\'s file; a server on the copy answers the same; DST is never overwritten', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const { server, client, db } = await startServer(dir);
    await client.registerWithResponse(TEST_EVENTS);
    const expected = await client.query({ types: [['test', '*']], order: 'ascending' });
    expect(expected).toHaveLength(3);
    const dst = path.join(dir, 'copy', 'events.db');
    await mkdir(path.dirname(dst));

    const copied = await runCli(['lmdb', 'copy', '--db', db, dst], { cwd: dir });
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(new RegExp(`^copied ${db} to ${dst}: \\d+ events, \\d+ rows in [\\d.]+ s; [\\d.]+ MiB \\(the source file: [\\d.]+ MiB\\)\\n$`));
    expect(await readdir(path.dirname(dst))).toEqual(['events.db']);

    const before = await readFile(dst);
    const again = await runCli(['lmdb', 'copy', '--db', db, dst], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`hat-event-ts: error: ${dst} already exists (a copy never overwrites)\n`);
    expect((await readFile(dst)).equals(before)).toBe(true);

    await stop(server);
    const rows = async (file: string) => (await runCli(['lmdb', 'query', '--db', file, 'ordered'], { cwd: dir })).stdout.trim().split('\n');
    const sourceRows = await rows(db);
    const copyRows = await rows(dst);
    expect(copyRows.length).toBeGreaterThanOrEqual(5);
    expect(sourceRows.slice(0, copyRows.length)).toEqual(copyRows); // the source went on (DISCONNECTED, STOPPED)
    expect((await runCli(['lmdb', 'verify', '--db', dst], { cwd: dir })).code).toBe(0);

    const second = await startServer(path.dirname(dst), './events.db');
    const answered = await second.client.query({ types: [['test', '*']], order: 'ascending' });
    expect(answered.map((e) => [e.id, e.type, e.timestamp, e.sourceTimestamp, e.payload])).toEqual(
      expected.map((e) => [e.id, e.type, e.timestamp, e.sourceTimestamp, e.payload]));
    expect(JSON.stringify(answered.map((e) => e.payload))).toBe(JSON.stringify(expected.map((e) => e.payload)));
  });

  it('--skip-latest and --skip-ordered leave out those tables and the refs to them; the copy verifies', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const { server, client, db } = await startServer(dir);
    await client.registerWithResponse(TEST_EVENTS);
    await stop(server);
    const count = async (file: string, what: string) => jsonLines((await runCli(['lmdb', 'query', '--db', file, what], { cwd: dir })).stdout).length;
    const [latest, ordered] = [await count(db, 'latest'), await count(db, 'ordered')];
    expect(Math.min(latest, ordered)).toBeGreaterThan(0);
    for (const [flag, expected] of [['--skip-latest', [0, ordered]], ['--skip-ordered', [latest, 0]]] as const) {
      const dst = path.join(dir, `copy${flag}.db`);
      expect((await runCli(['lmdb', 'copy', '--db', db, flag, dst], { cwd: dir })).code).toBe(0);
      expect([await count(dst, 'latest'), await count(dst, 'ordered')]).toEqual(expected);
      const verified = await runCli(['lmdb', 'verify', '--db', dst], { cwd: dir });
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/no problems\n$/);
    }
  });

  it('an interrupted copy leaves no destination and no partial file', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'big.db');
    const backend = await openLmdbBackend({
      db_path: db, max_db_size: 1 << 27, flush_period: 0, conditions: [], latest: { subscriptions: [['*']] },
      ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
    }, { cleanup: false });
    for (let s = 1; s <= 12; s++) {
      await backend.register(Array.from({ length: 10_000 }, (_, i) => ({
        id: { server: 1, session: s, instance: s * 10_000 + i }, type: ['x', String(i % 20)],
        timestamp: { s: 1_700_000_000 + s, us: i }, sourceTimestamp: null, payload: { type: 'json', data: i },
      })));
    }
    await backend.close();
    const dst = path.join(dir, 'copy.db');
    const copy = spawnCli(['lmdb', 'copy', '--db', db, dst], { cwd: dir });
    while (!(await readdir(dir)).some((f) => f.startsWith('copy.db.partial-'))) {
      expect(copy.child.exitCode).toBeNull(); // still copying: the file is large enough
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    copy.child.kill('SIGINT');
    expect((await copy.exited).code).toBe(1);
    expect(copy.stderr()).toBe('hat-event-ts: error: copy interrupted, nothing written\n');
    expect((await readdir(dir)).filter((f) => f.startsWith('copy'))).toEqual([]);
  });
});

describe('hat-event-ts lmdb verify', () => {
  it('passes the server\'s file, then finds deliberately broken refs, in both directions, and the counts they throw off', async () => {
    const dir = await tempDir();
    const { server, client, db } = await startServer(dir);
    const [a1, b, a2] = (await client.registerWithResponse(TEST_EVENTS)) as Event[];
    await stop(server);
    const clean = await runCli(['lmdb', 'verify', '--db', db], { cwd: dir });
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    const summary = /^(.*): (\d+) events, (\d+) latest types, 1 partition with (\d+) entries: no problems\n$/.exec(clean.stdout);
    expect(summary?.[1]).toBe(db);
    const [events, types, entries] = [summary![2], summary![3], Number(summary![4])];

    // a1's ordered row disappears (its REF set now points nowhere); b's REF set names a latest
    // row that does not exist (and no longer the rows that hold b)
    const env = Environment.open(db, 1 << 24);
    await env.commit([
      { db: 'ORDERED_DATA', key: orderedKey(1, a1.timestamp, a1.id), value: null },
      { db: 'REF', key: eventIdBytes(b.id), value: latestRef(99) },
    ]);
    await env.close();

    const broken = await runCli(['lmdb', 'verify', '--db', db], { cwd: dir });
    expect(broken.code).toBe(1);
    const id = (e: Event) => `${e.id.server}/${e.id.session}/${e.id.instance}`;
    const time = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';
    const lines = broken.stdout.trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.slice(0, 6)).toEqual([
      expect.stringMatching(new RegExp(`^problem: LATEST_DATA type_ref \\d+: REF of event ${id(b)} has no Latest ref to it$`)),
      `problem: ORDERED_DATA partition 1 ${id(b)}: REF of the event has no Ordered ref to it`,
      `problem: ORDERED_COUNT partition 1: says ${entries} entries, the partition has ${entries - 1}`,
      `problem: HAT_EVENT_TS_TYPE_INDEX partition 1: ${entries} entries for a partition of ${entries - 1}, though its meta row says it is current`,
      expect.stringMatching(new RegExp(`^problem: REF ${id(a1)}: Ordered ref to a missing ORDERED_DATA row \\(partition 1 at ${time}\\)$`)),
      `problem: REF ${id(b)}: Latest ref to type_ref 99, which has no LATEST_DATA row`,
    ]);
    expect(lines[6]).toBe(`${db}: ${events} events, ${types} latest types, 1 partition with ${entries - 1} entries: 6 problems`);
    void a2;
  });
});

describe('hat-event-ts lmdb: bad input is one line and writes nothing', () => {
  it('a missing file, a text file, a folder, an LMDB file that is not an event database', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'notes.txt'), 'not a database\n'.repeat(100));
    await mkdir(path.join(dir, 'folder'));
    const other = open({ path: path.join(dir, 'other.mdb'), noSubdir: true, maxDbs: 2 });
    await other.openDB({ name: 'X' }).put('a', 'b');
    await other.close();
    await rm(path.join(dir, 'other.mdb-lock'));
    const listing = async () => (await readdir(dir)).sort();
    const files = await listing();
    const cases: [string, string][] = [
      ['missing.db', `cannot open ${path.join(dir, 'missing.db')}: no such file`],
      ['notes.txt', `${path.join(dir, 'notes.txt')} is not an LMDB file`],
      ['folder', `${path.join(dir, 'folder')} is not a database file (a folder or device)`],
      ['other.mdb', `${path.join(dir, 'other.mdb')} is an LMDB file but not an event database: it has no SYSTEM, LATEST_DATA, LATEST_TYPE, ` +
        'ORDERED_DATA, ORDERED_PARTITION, ORDERED_COUNT, REF sub-databases'],
    ];
    for (const [file, message] of cases) {
      const db = path.join(dir, file);
      const commands = [['query', '--db', db, 'ordered'], ['verify', '--db', db], ['copy', '--db', db, path.join(dir, 'out.db')]];
      const results = await Promise.all(commands.map((args) => runCli(['lmdb', ...args], { cwd: dir })));
      commands.forEach((args, i) => {
        expect(results[i], `${args.join(' ')}`).toEqual({ code: 1, stdout: '', stderr: `hat-event-ts: error: ${message}\n` });
      });
      expect(await listing()).toEqual(files);
    }
  });

  it('a copy into a missing folder, and command-line mistakes (exit 2)', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const { server, db } = await startServer(dir);
    await stop(server);
    const into = path.join(dir, 'no', 'such', 'copy.db');
    expect(await runCli(['lmdb', 'copy', '--db', db, into], { cwd: dir })).toEqual({
      code: 1, stdout: '', stderr: `hat-event-ts: error: cannot write ${into}: no folder ${path.dirname(into)}\n`,
    });
    expect(existsSync(path.join(dir, 'no'))).toBe(false);
    const usage: [string[], string][] = [
      [['lmdb', 'query', 'ordered'], 'lmdb query needs --db PATH'],
      [['lmdb', 'query', '--db', db], 'lmdb query needs one of last-event-id, partition, latest, ordered'],
      [['lmdb', 'query', '--db', db, 'newest'], 'lmdb query needs one of last-event-id, partition, latest, ordered, not \'newest\''],
      [['lmdb', 'query', '--db', db, 'latest', '--limit', '3'], 'lmdb query latest takes no --limit (try hat-event-ts lmdb --help)'],
      [['lmdb', 'query', '--db', db, 'ordered', '--server-id', 'one'], '--server-id: expected an integer of at least 0, got "one"'],
      [['lmdb', 'copy', '--db', db], 'lmdb copy needs one destination path after --db SRC (got 0)'],
      [['lmdb', 'verify', '--db', db, '--skip-latest'], 'lmdb verify takes no --skip-latest (try hat-event-ts lmdb --help)'],
      [['lmdb', 'compact', '--db', db], 'unknown lmdb subcommand \'compact\' (try hat-event-ts lmdb --help)'],
    ];
    const results = await Promise.all(usage.map(([args]) => runCli(args, { cwd: dir })));
    usage.forEach(([args, message], i) => {
      expect(results[i], args.join(' ')).toEqual({ code: 2, stdout: '', stderr: `hat-event-ts: ${message}\n` });
    });
    const unknown = await runCli(['lmdb', 'query', '--db', db, 'ordered', '--bogus'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^hat-event-ts: Unknown option '--bogus'.* \(try hat-event-ts lmdb --help\)\n$/);
    const help = await runCli(['lmdb', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: hat-event-ts lmdb query --db PATH/);
    expect((await stat(db)).size).toBeGreaterThan(0);
  });
});
