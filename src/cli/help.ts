// --help texts.
export const MAIN_HELP = `Usage: hat-event-ts <command> [options]

An event server compatible with Hat's Event Server (hat-event 0.8).

Commands:
  server            run the event server (hat-event-ts server --help for its options)

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
