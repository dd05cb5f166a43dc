// `hat-event-ts eventer register|query|subscribe`: any Hat 0.8 eventer server (ours or Hat's
// Python one: the same wire) from a shell, through the library's eventer client.
import { createInterface } from 'node:readline';
import { parseAddress } from '../chatter/address.ts';
import { describeError } from '../common/describe-error.ts';
import { jsonPayloadFromText } from '../common/json-payload.ts';
import type { EventPayload, EventType, QueryData, RegisterEvent } from '../common/types.ts';
import { connectEventer, type EventerClient, type EventerClientOptions } from '../eventer/client.ts';
import { integerArg, onlyOptions, parseToolArgs, UsageError, type ToolArgs } from './args.ts';
import { bytesFromHex, eventJson, parseEventTypeArg, parseTimestampArg, registerEventFromLine } from './event-json.ts';
import { EVENTER_HELP } from './help.ts';
import { commandLogger, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.ts';
import { LineOutput } from './output.ts';

export const DEFAULT_ADDRESS = 'tcp+sbs://127.0.0.1:23012';

/** Events per register request when they come as JSON lines on stdin. */
const STDIN_BATCH = 1000;

const OPTIONS = {
  address: { type: 'string', short: 'a' },
  type: { type: 'string' },
  'source-timestamp': { type: 'string' },
  json: { type: 'string' },
  'binary-hex': { type: 'string' },
  response: { type: 'boolean' },
  types: { type: 'string', multiple: true },
  'server-id': { type: 'string' },
  't-from': { type: 'string' },
  't-to': { type: 'string' },
  'source-t-from': { type: 'string' },
  'source-t-to': { type: 'string' },
  order: { type: 'string' },
  'order-by': { type: 'string' },
  'unique-type': { type: 'boolean' },
  'max-results': { type: 'string' },
  indent: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ToolArgs<typeof OPTIONS>['values'];

const SUBCOMMANDS = {
  register: ['type', 'source-timestamp', 'json', 'binary-hex', 'response'],
  query: ['types', 'server-id', 't-from', 't-to', 'source-t-from', 'source-t-to', 'order', 'order-by', 'unique-type', 'max-results'],
  subscribe: ['types'],
} as const;

export async function runEventerCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseToolArgs('eventer', args, OPTIONS);
  const [sub, extra] = positionals;
  if (values.help || sub === undefined) {
    io.stdout.write(EVENTER_HELP);
    return values.help ? EXIT_OK : EXIT_USAGE;
  }
  if (!Object.hasOwn(SUBCOMMANDS, sub)) throw new UsageError(`unknown eventer subcommand '${sub}' (try hat-event-ts eventer --help)`);
  const usage = `eventer ${sub}`;
  if (extra !== undefined) throw new UsageError(`${usage} takes no argument '${extra}'`);
  onlyOptions(usage, values, ['address', 'indent', ...SUBCOMMANDS[sub as keyof typeof SUBCOMMANDS]]);
  const address = values.address ?? DEFAULT_ADDRESS;
  try {
    parseAddress(address);
  } catch (err) {
    throw new UsageError(`--address: ${describeError(err)}`);
  }
  const indent = values.indent ? 2 : undefined;
  switch (sub) {
    case 'register':
      return register(address, values, indent, io);
    case 'query':
      return query(address, queryData(values), indent, io);
    default:
      return subscribe(address, (values.types ?? ['*']).map(parseEventTypeArg), indent, io);
  }
}

/** Connects, or throws one line saying why not; the client's own log lines go to stderr. */
export async function connectTo(address: string, io: CliIo, options: EventerClientOptions = {}): Promise<EventerClient> {
  try {
    return await connectEventer(address, { logger: commandLogger(io), ...options });
  } catch (err) {
    throw new Error(`cannot connect to ${address}: ${describeError(err)}`, { cause: err });
  }
}

async function register(address: string, values: Values, indent: number | undefined, io: CliIo): Promise<number> {
  const single = values.type === undefined ? null : registerEventFromOptions(values);
  if (single === null) {
    for (const name of ['source-timestamp', 'json', 'binary-hex'] as const) {
      if (values[name] !== undefined) throw new UsageError(`--${name} goes with --type (events from stdin carry their own)`);
    }
    if ((io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError('eventer register needs --type, or JSON lines on stdin');
  }
  const out = new LineOutput(io.stdout);
  let client: EventerClient | null = null;
  let registered = 0;
  let rejected = 0;
  const send = async (events: RegisterEvent[]): Promise<void> => {
    client ??= await connectTo(address, io);
    const results = await client.registerWithResponse(events);
    for (const event of results) {
      if (event === null) rejected += 1;
      else registered += 1;
      if (values.response) await out.line(event === null ? 'null' : eventJson(event, indent));
    }
  };
  try {
    if (single !== null) {
      await send([single]);
    } else {
      let batch: RegisterEvent[] = [];
      let lineNo = 0;
      for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
        lineNo += 1;
        if (line.trim() === '') continue;
        try {
          batch.push(registerEventFromLine(line));
        } catch (err) {
          const before = registered + rejected === 0 ? 'nothing was registered' : `the ${registered + rejected} events before its batch were sent`;
          throw new UsageError(`stdin line ${lineNo}: ${describeError(err)}; ${before}`);
        }
        if (batch.length >= STDIN_BATCH) {
          await send(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await send(batch);
    }
  } finally {
    await (client as EventerClient | null)?.close();
  }
  if (rejected > 0) {
    io.stderr.write(`hat-event-ts: ${rejected} of ${registered + rejected} events were not registered (the server rejected them)\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

function registerEventFromOptions(values: Values): RegisterEvent {
  if (values.json !== undefined && values['binary-hex'] !== undefined) throw new UsageError('give --json or --binary-hex, not both');
  let payload: EventPayload | null = null;
  if (values.json !== undefined) {
    try {
      JSON.parse(values.json);
    } catch (err) {
      throw new UsageError(`--json: not a JSON value: ${describeError(err)}`);
    }
    payload = jsonPayloadFromText(values.json); // the text as given, so `1.0` stays `1.0`
  } else if (values['binary-hex'] !== undefined) {
    payload = { type: 'binary', data: usage(() => bytesFromHex(values['binary-hex'], '--binary-hex')) };
  }
  const sourceTimestamp = values['source-timestamp'];
  return {
    type: parseEventTypeArg(values.type!),
    sourceTimestamp: sourceTimestamp === undefined ? null : usage(() => parseTimestampArg(sourceTimestamp, '--source-timestamp')),
    payload,
  };
}

function queryData(values: Values): QueryData {
  const time = (name: 't-from' | 't-to' | 'source-t-from' | 'source-t-to') => {
    const text = values[name];
    return text === undefined ? null : usage(() => parseTimestampArg(text, `--${name}`));
  };
  const order = values.order ?? 'descending';
  if (order !== 'ascending' && order !== 'descending') throw new UsageError(`--order: ascending or descending, not '${order}'`);
  const orderBy = values['order-by'] ?? 'timestamp';
  if (orderBy !== 'timestamp' && orderBy !== 'source-timestamp') throw new UsageError(`--order-by: timestamp or source-timestamp, not '${orderBy}'`);
  return {
    types: values.types?.map(parseEventTypeArg) ?? null,
    serverId: integerArg(values['server-id'], 'server-id'),
    tFrom: time('t-from'),
    tTo: time('t-to'),
    sourceTFrom: time('source-t-from'),
    sourceTTo: time('source-t-to'),
    order,
    orderBy: orderBy === 'timestamp' ? 'timestamp' : 'sourceTimestamp',
    uniqueType: values['unique-type'] === true,
    maxResults: integerArg(values['max-results'], 'max-results'),
  };
}

async function query(address: string, data: QueryData, indent: number | undefined, io: CliIo): Promise<number> {
  const client = await connectTo(address, io);
  try {
    const events = await client.query(data);
    const out = new LineOutput(io.stdout);
    for (const event of events) {
      await out.line(eventJson(event, indent));
      if (out.gone) break;
    }
    return EXIT_OK;
  } finally {
    await client.close();
  }
}

/** Notified events until SIGINT or SIGTERM (exit 0) or until the server closes (exit 1). */
async function subscribe(address: string, types: EventType[], indent: number | undefined, io: CliIo): Promise<number> {
  const client = await connectTo(address, io, { subscriptions: types });
  let stopped = false;
  const onSignal = (): void => {
    stopped = true;
    void client.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const out = new LineOutput(io.stdout);
  try {
    for await (const events of client) {
      for (const event of events) await out.line(eventJson(event, indent));
      if (out.gone) return EXIT_OK;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close();
  }
  if (stopped) return EXIT_OK;
  throw new Error(`the connection to ${address} closed`);
}

/** A bad value in an option is a usage error. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(describeError(err));
  }
}
