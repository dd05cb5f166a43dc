// `hat-event-ts lmdb query|copy|verify --db PATH`: an event database file without a server,
// Hat 0.8's or ours, opened read-only (a running server's file included).
import { copyEventDatabase } from '../backends/lmdb/copy.ts';
import { latestEvents, orderedEvents, partitionRows, systemRows, type EventFilter } from '../backends/lmdb/inspect.ts';
import { ReadOnlyEnvironment } from '../backends/lmdb/read-only.ts';
import { verifyEventDatabase } from '../backends/lmdb/verify.ts';
import { fmt } from '../bench/stats.ts';
import { integerArg, onlyOptions, parseToolArgs, UsageError, type ToolArgs } from './args.ts';
import { eventIdJson, eventJson, parseEventTypeArg, timestampJson } from './event-json.ts';
import { LMDB_HELP } from './help.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.ts';
import { LineOutput } from './output.ts';
import { bar, duration, ProgressLine } from './progress.ts';

const OPTIONS = {
  db: { type: 'string' },
  'server-id': { type: 'string' },
  'session-id': { type: 'string' },
  'instance-id': { type: 'string' },
  'partition-id': { type: 'string' },
  'event-type': { type: 'string', multiple: true },
  limit: { type: 'string' },
  indent: { type: 'boolean' },
  'skip-latest': { type: 'boolean' },
  'skip-ordered': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ToolArgs<typeof OPTIONS>['values'];

/** The options each query takes, beside --db and --indent. */
const QUERIES = {
  'last-event-id': ['server-id'],
  partition: ['partition-id'],
  latest: ['server-id', 'session-id', 'instance-id', 'event-type'],
  ordered: ['partition-id', 'server-id', 'session-id', 'instance-id', 'event-type', 'limit'],
} as const;

export async function runLmdbCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseToolArgs('lmdb', args, OPTIONS);
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    io.stdout.write(LMDB_HELP);
    return values.help ? EXIT_OK : EXIT_USAGE;
  }
  const usage = `lmdb ${sub}`;
  const db = values.db;
  if (sub !== 'query' && sub !== 'copy' && sub !== 'verify') throw new UsageError(`unknown lmdb subcommand '${sub}' (try hat-event-ts lmdb --help)`);
  if (db === undefined || db === '') throw new UsageError(`${usage} needs --db PATH`);
  switch (sub) {
    case 'query':
      return query(db, rest, values, io);
    case 'copy':
      onlyOptions(usage, values, ['db', 'skip-latest', 'skip-ordered']);
      if (rest.length !== 1) throw new UsageError(`${usage} needs one destination path after --db SRC (got ${rest.length})`);
      return copy(db, rest[0]!, values, io);
    case 'verify':
      onlyOptions(usage, values, ['db']);
      if (rest.length > 0) throw new UsageError(`${usage} takes no argument '${rest[0]}'`);
      return verify(db, io);
  }
}

async function query(db: string, rest: string[], values: Values, io: CliIo): Promise<number> {
  const [what, extra] = rest;
  if (what === undefined || !Object.hasOwn(QUERIES, what)) {
    throw new UsageError(`lmdb query needs one of ${Object.keys(QUERIES).join(', ')}${what === undefined ? '' : `, not '${what}'`}`);
  }
  const usage = `lmdb query ${what}`;
  if (extra !== undefined) throw new UsageError(`${usage} takes no argument '${extra}'`);
  onlyOptions(usage, values, ['db', 'indent', ...QUERIES[what as keyof typeof QUERIES]]);
  const serverId = integerArg(values['server-id'], 'server-id');
  const partitionId = integerArg(values['partition-id'], 'partition-id');
  const limit = integerArg(values.limit, 'limit');
  const filter: EventFilter = {
    server: serverId,
    session: integerArg(values['session-id'], 'session-id'),
    instance: integerArg(values['instance-id'], 'instance-id'),
    types: values['event-type']?.map(parseEventTypeArg) ?? null,
  };
  const indent = values.indent ? 2 : undefined;
  const json = (value: unknown): string => JSON.stringify(value, null, indent);

  const env = ReadOnlyEnvironment.open(db);
  const out = new LineOutput(io.stdout);
  try {
    const lines: Iterable<string> =
      what === 'last-event-id' ? map(systemRows(env, serverId), (row) =>
        json({ server_id: row.serverId, event_id: eventIdJson(row.id), timestamp: timestampJson(row.timestamp) }))
      : what === 'partition' ? map(partitionRows(env, partitionId), (row) =>
        json({ partition_id: row.id, ...(isObject(row.identity) ? row.identity : { identity: row.identity }), count: row.count }))
      : what === 'latest' ? map(latestEvents(env, filter), (event) => eventJson(event, indent))
      : map(orderedEvents(env, partitionId, filter), (event) => eventJson(event, indent));
    let written = 0;
    for (const line of lines) {
      if (limit !== null && written >= limit) break;
      await out.line(line);
      written += 1;
      if (out.gone) break;
    }
  } finally {
    await env.close();
  }
  return EXIT_OK;
}

async function copy(src: string, dst: string, values: Values, io: CliIo): Promise<number> {
  const progress = new ProgressLine(io.stderr);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  try {
    const result = await copyEventDatabase(src, dst, {
      skipLatest: values['skip-latest'] === true,
      skipOrdered: values['skip-ordered'] === true,
      signal: abort.signal,
      onProgress: ({ rows, totalRows }) => progress.update(() => {
        const seconds = (performance.now() - started) / 1000;
        const rate = rows / seconds;
        return `copying ${bar(rows / totalRows)} ${fmt(rows)}/${fmt(totalRows)} rows  ${fmt(rate)} rows/s  ETA ${duration((totalRows - rows) / rate)}`;
      }),
    });
    progress.clear();
    const seconds = (performance.now() - started) / 1000;
    io.stdout.write(
      `copied ${src} to ${dst}: ${fmt(result.events)} events, ${fmt(result.rows)} rows in ${fmt(seconds, 1)} s; ` +
        `${mib(result.bytes)} (the source file: ${mib(result.sourceBytes)})\n`,
    );
    return EXIT_OK;
  } finally {
    progress.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function verify(db: string, io: CliIo): Promise<number> {
  const env = ReadOnlyEnvironment.open(db);
  const out = new LineOutput(io.stdout);
  try {
    const findings = verifyEventDatabase(env);
    for (let next = findings.next(); ; next = findings.next()) {
      if (next.done) {
        const s = next.value;
        await out.line(
          `${db}: ${plural(s.events, 'event')}, ${plural(s.latestTypes, 'latest type')}, ${plural(s.partitions, 'partition')} ` +
            `with ${plural(s.orderedEntries, 'entry', 'entries')}: ${s.problems === 0 ? 'no problems' : plural(s.problems, 'problem')}` +
            `${s.notes === 0 ? '' : `, ${plural(s.notes, 'note')}`}`,
        );
        return s.problems === 0 ? EXIT_OK : EXIT_FAILURE;
      }
      const { problem, where, message } = next.value;
      await out.line(`${problem ? 'problem' : 'note'}: ${where}: ${message}`);
    }
  } finally {
    await env.close();
  }
}

function* map<T>(items: Iterable<T>, f: (item: T) => string): Generator<string> {
  for (const item of items) yield f(item);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${fmt(n)} ${n === 1 ? word : words}`;
}

function mib(bytes: number): string {
  return `${fmt(bytes / 2 ** 20, 1)} MiB`;
}
