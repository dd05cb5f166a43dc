// The embedded default configuration: what `hat-event-ts server` runs without --conf, and what
// `--print-default-conf` prints. Relative paths resolve against the working directory.
import { Document, isScalar, visit } from 'yaml';
import type { ServerConf } from './server-conf.ts';

export function defaultServerConf(): ServerConf {
  return {
    type: 'event',
    log: { version: 1, root: { level: 'INFO' } },
    backend: {
      module: 'lmdb',
      db_path: './data/events.db',
      max_db_size: 1024 * 1024 * 1024,
      flush_period: 1,
      conditions: [],
      latest: { subscriptions: [['*']] },
      ordered: [{ order_by: 'TIMESTAMP', subscriptions: [['*']] }],
    },
    engine: { server_id: 1, modules: [] },
    eventer_server: { address: 'tcp+sbs://127.0.0.1:23012' },
  };
}

export function defaultServerConfYaml(): string {
  return [
    '# hat-event-ts server configuration (Hat server.yaml structure).',
    '# Relative paths resolve against the folder of this file.',
    compactYaml(defaultServerConf()),
  ].join('\n');
}

/** Lists of scalars (event types) in flow style: `[['*']]` reads better than nested dashes. */
function compactYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return doc.toString();
}
