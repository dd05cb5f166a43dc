// `hat-event-ts eventer` as a real process against a real server: register (options and JSON
// lines), query and subscribe agree on the events and their JSON form; bad input and an
// unreachable or vanishing server are one line and an exit status.
import { afterEach, describe, expect, it } from 'vitest';
import { connectEventer, type EventerClient } from '../../src/eventer/client.ts';
import { cleanup, closedPort, jsonLines, lmdbConf, runCli, spawnCli, tempDir, writeConf, type CliProcess } from './helpers.ts';

const clients: EventerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await cleanup();
});

/** A server with a partition for each order (queries by source timestamp have one to go to). */
async function startServer(dir: string): Promise<{ server: CliProcess; address: string }> {
  const conf = lmdbConf({ flush_period: 0 });
  (conf['backend'] as { ordered: object[] }).ordered.push({ order_by: 'SOURCE_TIMESTAMP', subscriptions: [['*']] });
  const server = spawnCli(['server', '--conf', await writeConf(dir, conf)], { cwd: dir });
  return { server, address: await server.address() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `run`'s stdout holds `n` lines that match `pred`. */
async function linesOf(run: CliProcess, n: number, pred: (line: string) => boolean): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const lines = run.stdout().split('\n').filter((line) => line !== '' && pred(line));
    if (lines.length >= n) return lines;
    await sleep(25);
  }
  throw new Error(`fewer than ${n} lines: ${run.stdout()} ${run.stderr()}`);
}

describe('hat-event-ts eventer', () => {
  it('register, query and subscribe round trip: one JSON form, payload text kept exactly', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const { address } = await startServer(dir);
    const subscriber = spawnCli(['eventer', 'subscribe', '--address', address, '--types', 'test/*', '--types', 'probe'], { cwd: dir });
    // The subscription is in place once a probe is notified.
    const probe = await connectEventer(address);
    clients.push(probe);
    while (!subscriber.stdout().includes('"probe"')) {
      await probe.registerWithResponse([{ type: ['probe'], sourceTimestamp: null, payload: null }]);
      await sleep(100);
    }

    const one = await runCli(['eventer', 'register', '-a', address, '--type', 'test/a', '--json', '{"v": 1.0, "n": [1, 2]}',
      '--source-timestamp', '2024-05-01T10:00:00.000001Z', '--response'], { cwd: dir });
    expect(one).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(one.stdout)).toEqual([{
      event_id: { server: 1, session: expect.any(Number), instance: expect.any(Number) }, event_type: ['test', 'a'],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/), source_timestamp: '2024-05-01T10:00:00.000001Z',
      payload: { type: 'JSON', data: { v: 1, n: [1, 2] } },
    }]);
    expect(one.stdout).toContain('"data":{"v": 1.0, "n": [1, 2]}}');

    const input = [
      '{"event_type": ["test", "b"], "source_timestamp": null, "payload": {"type": "BINARY", "data": "00ff10"}}',
      '',
      '{"event_type": ["test", "c"], "source_timestamp": {"s": -5, "us": 7}, "payload": {"type": "SBS", "data": {"module": null, "type": "Integer", "data": "07"}}}',
      '{"event_type": ["test", "d", "e"], "payload": {"type": "JSON", "data": {"f": 2.0}}}',
    ].join('\n');
    const many = await runCli(['eventer', 'register', '-a', address, '--response'], { cwd: dir, input });
    expect(many.code).toBe(0);
    expect(jsonLines(many.stdout)).toMatchObject([
      { event_type: ['test', 'b'], source_timestamp: null, payload: { type: 'BINARY', data: '00ff10' } },
      { event_type: ['test', 'c'], source_timestamp: '1969-12-31T23:59:55.000007Z', payload: { type: 'SBS', data: { module: null, type: 'Integer', data: '07' } } },
      { event_type: ['test', 'd', 'e'], source_timestamp: null, payload: { type: 'JSON', data: { f: 2 } } },
    ]);
    expect(many.stdout).toContain('"payload":{"type":"JSON","data":{"f": 2.0}}}');
    const quiet = await runCli(['eventer', 'register', '-a', address, '--type', 'test/f', '--binary-hex', 'CAFE'], { cwd: dir });
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });

    const registered = [...one.stdout.trim().split('\n'), ...many.stdout.trim().split('\n')];
    const query = await runCli(['eventer', 'query', '-a', address, '--types', 'test/*', '--order', 'ascending'], { cwd: dir });
    expect(query.code).toBe(0);
    const queried = query.stdout.trim().split('\n');
    expect(queried.slice(0, 4)).toEqual(registered);
    expect(jsonLines(queried[4]!)).toMatchObject([{ event_type: ['test', 'f'], payload: { type: 'BINARY', data: 'cafe' } }]);

    const notified = await linesOf(subscriber, 5, (line) => line.includes('"test"'));
    expect(notified).toEqual(queried);

    const filtered = async (...args: string[]) => jsonLines((await runCli(['eventer', 'query', '-a', address, ...args], { cwd: dir })).stdout);
    expect(await filtered('--types', 'test/?', '--unique-type', '--max-results', '10')).toHaveLength(4); // a, b, c, f: one each, newest first
    expect(await filtered('--types', 'test/*', '--order-by', 'source-timestamp', '--order', 'ascending', '--max-results', '2'))
      .toMatchObject([{ event_type: ['test', 'c'] }, { event_type: ['test', 'a'] }]);
    expect(await filtered('--types', 'test/*', '--t-from', '2999-01-01T00:00:00Z')).toEqual([]);
    expect(await filtered('--types', 'test/*', '--server-id', '2')).toEqual([]);

    // query output registers again as it is (new ids and timestamps, the same content)
    const replay = await runCli(['eventer', 'register', '-a', address, '--response'], { cwd: dir, input: query.stdout });
    const strip = (line: unknown) => ({ ...(line as object), event_id: null, timestamp: null });
    expect(jsonLines(replay.stdout).map(strip)).toEqual(jsonLines(query.stdout).map(strip));

    subscriber.child.kill('SIGINT');
    expect((await subscriber.exited).code).toBe(0);
  });
});

describe('hat-event-ts eventer: bad input and unreachable servers', () => {
  it('an unreachable server, a wrong address, bad options: one line, exit 1 or 2, nothing registered', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const port = await closedPort();
    const { address } = await startServer(dir);

    const runs: [string[], string | undefined, number, string | RegExp][] = [
      [['eventer', 'query', '-a', `tcp+sbs://127.0.0.1:${port}`], undefined, 1,
        `error: cannot connect to tcp+sbs://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`],
      [['eventer', 'register', '-a', `tcp+sbs://127.0.0.1:${port}`, '--type', 'test/x'], undefined, 1,
        `error: cannot connect to tcp+sbs://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`],
      [['eventer', 'query', '-a', 'http://127.0.0.1:80'], undefined, 2, '--address: invalid chatter address "http://127.0.0.1:80": scheme must be tcp+sbs or ssl+sbs'],
      [['eventer', 'subscribe', '-a', 'tcp+sbs://127.0.0.1'], undefined, 2, '--address: invalid chatter address "tcp+sbs://127.0.0.1": missing port'],
      [['eventer', 'register', '-a', address, '--type', 'test/x', '--json', '{oops'], undefined, 2, /^hat-event-ts: --json: not a JSON value: [^\n]+\n$/],
      [['eventer', 'register', '-a', address, '--type', 'test/x', '--json', '1', '--binary-hex', '01'], undefined, 2, 'give --json or --binary-hex, not both'],
      [['eventer', 'register', '-a', address, '--type', 'test/x', '--binary-hex', 'abc'], undefined, 2, '--binary-hex: expected hex digits, two per byte'],
      [['eventer', 'register', '-a', address, '--type', 'test/x', '--source-timestamp', 'yesterday'], undefined, 2,
        '--source-timestamp: not an ISO 8601 date-time or \'now\': "yesterday"'],
      [['eventer', 'register', '-a', address, '--json', '1'], '{"event_type": ["test", "y"]}\n', 2, '--json goes with --type (events from stdin carry their own)'],
      [['eventer', 'register', '-a', address], '{"event_type": ["test", "y"]}\n{"event_type": "test/y"}\n{"event_type": ["test", "z"]}\n', 2,
        'stdin line 2: event_type: expected an array of strings; nothing was registered'],
      [['eventer', 'register', '-a', address], '{"event_type": ["test", "y"], "colour": "red"}\n', 2, 'stdin line 1: unknown key \'colour\'; nothing was registered'],
      [['eventer', 'query', '-a', address, '--order', 'sideways'], undefined, 2, '--order: ascending or descending, not \'sideways\''],
      [['eventer', 'query', '-a', address, '--type', 'test/x'], undefined, 2, 'eventer query takes no --type (try hat-event-ts eventer --help)'],
      [['eventer', 'publish', '-a', address], undefined, 2, 'unknown eventer subcommand \'publish\' (try hat-event-ts eventer --help)'],
    ];
    const results = await Promise.all(runs.map(([args, input]) => runCli(args, { cwd: dir, input })));
    runs.forEach(([args, , code, message], i) => {
      const result = results[i]!;
      expect({ code: result.code, stdout: result.stdout }, args.join(' ')).toEqual({ code, stdout: '' });
      if (typeof message === 'string') expect(result.stderr, args.join(' ')).toBe(`hat-event-ts: ${message}\n`);
      else expect(result.stderr, args.join(' ')).toMatch(message);
    });
    const check = await connectEventer(address);
    clients.push(check);
    expect(await check.query({ types: [['test', '*']] })).toEqual([]);
  });

  it('a subscriber whose server goes away exits 1 with one line', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const { server, address } = await startServer(dir);
    const subscriber = spawnCli(['eventer', 'subscribe', '-a', address], { cwd: dir });
    const probe = await connectEventer(address);
    while (!subscriber.stdout().includes('"probe"')) {
      await probe.registerWithResponse([{ type: ['probe'], sourceTimestamp: null, payload: null }]);
      await sleep(100);
    }
    await probe.close();
    server.child.kill('SIGKILL');
    expect((await subscriber.exited).code).toBe(1);
    expect(subscriber.stderr()).toBe(`hat-event-ts: error: the connection to ${address} closed\n`);
  });
});
