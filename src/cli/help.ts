// --help texts.
export const MAIN_HELP = `Usage: hat-event-ts <command> [options]

An event server compatible with Hat's Event Server (hat-event 0.8).

Commands:
  server            run the event server
  lmdb              query, copy or verify an event database file without a server
  eventer           register, query and subscribe on a running server from a shell
  bench             measure a running server under load (throughput, latency, charts)

hat-event-ts <command> --help shows a command's options.

Options:
  -h, --help        show this help
  -V, --version     print the version
`;

export const SERVER_HELP = `Usage: hat-event-ts server [--conf FILE]

Runs the event server: backend, engine and eventer server, until SIGINT or SIGTERM.

Options:
  -c, --conf FILE         configuration file, YAML (.yaml, .yml) or JSON (.json), in the
                          structure of Hat's server.yaml; relative paths in it (db_path,
                          module and backend files) resolve against the file's folder.
                          Without --conf the embedded default runs: LMDB database at
                          ./data/events.db (created), eventer on tcp+sbs://127.0.0.1:23012,
                          no modules.
      --print-default-conf
                          print the embedded default configuration as YAML and exit, to
                          start a configuration file from it
  -h, --help              show this help

Logs go to stderr: one JSON object per line, or readable text on a terminal
(log.format: auto | json | text; levels from log.level, log.root.level, log.loggers).

Stopping: the first SIGINT/SIGTERM stops in order (eventer server, engine with its
STOPPED event, backend with a final flush), without waiting for a module thread stuck
past its process_warning (its thread is terminated); a second one forces the exit.

Exit status:
  0  stopped cleanly
  1  could not start (port in use, unwritable data path, database used by another
     server, a module failing to start) or did not stop cleanly (a module failure,
     a failed flush, a forced exit)
  2  invalid command line or configuration (one line per problem: file, JSON path,
     what was expected); nothing was opened or written
`;

export const LMDB_HELP = `Usage: hat-event-ts lmdb query --db PATH <what> [options]
       hat-event-ts lmdb copy --db SRC DST [--skip-latest] [--skip-ordered]
       hat-event-ts lmdb verify --db PATH

An event database file (LMDB, Hat 0.8's layout; written by Hat or by hat-event-ts) without a
server. The file is opened read-only, as an LMDB reader: it may belong to a running server,
which is neither blocked nor changed; each command reads one consistent snapshot.

query <what>: one JSON object per line on stdout (--indent: indented, for reading)
  last-event-id [--server-id N]
                          per server: the last event id and its timestamp
  partition [--partition-id N]
                          the ordered partitions: id, order (1 timestamp, 2 source
                          timestamp), subscriptions, count
  latest [--server-id N] [--session-id N] [--instance-id N] [--event-type a/b/*]...
                          the latest event of each type that has one
  ordered [--partition-id N] [--server-id N] [--session-id N] [--instance-id N]
          [--event-type a/b/*]... [--limit N]
                          the events of the partitions, by partition, then time
  Events are written as {"event_id", "event_type", "timestamp", "source_timestamp",
  "payload"}, the form the eventer command uses; an event type is given as segments
  joined by '/', with '?' and a trailing '*' as in subscriptions (repeat the option
  for several types).

copy --db SRC DST: a compacted copy (no free pages) that Hat 0.8 and hat-event-ts open;
  --skip-latest leaves out the latest events, --skip-ordered the ordered partitions.
  DST must not exist. The copy is written beside DST and appears under its name only
  when complete, so an interrupted copy (SIGINT, SIGTERM) leaves no DST. A progress bar
  on a terminal; one summary line at the end.

verify --db PATH: checks the file's invariants (REF sets against the rows they point at
  and back, ORDERED_COUNT against the partitions, SYSTEM's last ids, hat-event-ts's type
  index against the partitions) and prints one line per problem, then a summary.

Exit status:
  0  done (verify: no problems)
  1  the file is missing or not an event database, DST exists, an interrupted copy,
     or (verify) problems were found
  2  invalid command line
`;

export const EVENTER_HELP = `Usage: hat-event-ts eventer register [--address ADDR] --type a/b/c
                                  [--source-timestamp ISO|now] [--json VALUE | --binary-hex HEX]
                                  [--response]
       hat-event-ts eventer register [--address ADDR] [--response] < events.jsonl
       hat-event-ts eventer query [--address ADDR] [--types a/*]... [--server-id N]
                                  [--t-from ISO] [--t-to ISO] [--source-t-from ISO]
                                  [--source-t-to ISO] [--order ascending|descending]
                                  [--order-by timestamp|source-timestamp] [--unique-type]
                                  [--max-results N]
       hat-event-ts eventer subscribe [--address ADDR] [--types a/*]...

A client of any Hat 0.8 eventer server (hat-event-ts or Hat's own: the same protocol).

  -a, --address ADDR      the server, tcp+sbs://HOST:PORT or ssl+sbs://HOST:PORT
                          (default tcp+sbs://127.0.0.1:23012)
      --indent            indent the JSON written (for reading)

register: registers one event from the options, or one per JSON line on stdin (sent in
  requests of up to 1000 events), and waits for the server's answer.
      --type a/b/c        the event type, segments joined by '/'
      --source-timestamp ISO|now
                          ISO 8601 (UTC unless a zone is given), e.g.
                          2024-05-01T10:00:00.000001Z
      --json VALUE        a JSON payload, kept as the exact text given
      --binary-hex HEX    a binary payload
      --response          print the registered events (null for one the server rejected)
  A stdin line is {"event_type": [...], "source_timestamp": ISO or null, "payload":
  {"type": "JSON", "data": ...} | {"type": "BINARY", "data": HEX} | {"type": "SBS",
  "data": {"module": ..., "type": ..., "data": HEX}} or null} (a JSON payload is kept
  as the exact text of its "data"); the output of query (event_id and timestamp are
  ignored) registers as it is.

query: prints the events the server answers, one JSON object per line:
  {"event_id": {"server", "session", "instance"}, "event_type", "timestamp",
   "source_timestamp", "payload"}. Without options: the newest events of every type.

subscribe: prints notified events, one per line, until SIGINT or SIGTERM.
      --types a/*         query types ('?' one segment, a trailing '*' any rest);
                          repeat for several (default '*')

Exit status:
  0  done (subscribe: stopped by a signal)
  1  the server is unreachable or closed the connection, or rejected events
  2  invalid command line, or a bad JSON line on stdin (the batches before it were sent)
`;

export const BENCH_HELP = `Usage: hat-event-ts bench --address tcp+sbs://HOST:PORT [options]

Measures a running Hat 0.8 eventer server (hat-event-ts or Hat's own) under load, cell by
cell: every combination of --mode, --batch and --connections, each warmed up, then measured
for --duration seconds. The connections are spread over worker threads; every request is
encoded before the clock starts, so the load generator spends its time on the protocol.

It registers real events in the server, of types under ['bench', 'load', ...]
(bench/load/<connection>/<0-9>, JSON payloads): use a server whose database may keep them.

Modes:
  pipelined   register without response as fast as the connection takes them (at most
              about 64 requests in flight per connection: every 16th asks for a response),
              then one register with response as a barrier: events/s the server sustains
  waited      register with response, one request at a time per connection: latency
              p50/p99/p99.9/max of a request, and the throughput of sequential clients

Options:
  -a, --address ADDR      the server, tcp+sbs://HOST:PORT or ssl+sbs://HOST:PORT
      --mode LIST         pipelined,waited (default both)
      --batch LIST        events per request (default 1,10,100)
      --connections LIST  connections at once (default 1,8,64)
      --duration S        measured seconds per cell (default 3)
      --warm-up S         seconds of the same load before measuring (default 1)
      --payload BYTES     JSON payload text per event (default 64)
      --repeat N          runs per cell; the table shows the median run and the spread
                          (default 1)
      --threads N         load generator threads (default: the machine's cores)
      --server-pid PID    the server's process (Linux): its CPU % and peak RSS per cell
      --json FILE         every cell, every run and the machine, as JSON
      --chart FILE        a chart of throughput per cell and latency percentiles: a
                          self-contained FILE.svg, or FILE.html with the table
  -h, --help              show this help

A Markdown table goes to stdout (a live progress line to stderr on a terminal). The client
CPU column is this process's CPU time per second (100 = one core): a cell marked * had the
load generator near the limit of its threads, so its figure may be the client's.

Exit status:
  0  done
  1  the server is unreachable or closed a connection, --server-pid is not readable, an
     output folder is not writable, or the run was interrupted (nothing is written)
  2  invalid command line
`;
