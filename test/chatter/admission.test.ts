// Who may connect (src/chatter/admission.ts), with real sockets: past max_connections or from an
// address outside allowed_clients a connection is closed at once with a log line; the others go on.
import { describe, expect, it } from 'vitest';
import { listen } from '../../src/chatter/transport.ts';
import type { ChatterConnection } from '../../src/chatter/connection.ts';
import { rawConnect } from './helpers.ts';
import { captureLogger } from '../helpers/logger.ts';

async function server(opts: Parameters<typeof listen>[2]) {
  const accepted: ChatterConnection[] = [];
  const logger = captureLogger();
  const s = await listen('tcp+sbs://127.0.0.1:0', (c) => accepted.push(c), { logger, ...opts });
  return { s, accepted, logger, address: s.addresses[0]! };
}

describe('admission', () => {
  it('a connection past max_connections is closed at once; a place freed is taken again', async () => {
    const { s, accepted, logger, address } = await server({ maxConnections: 2 });
    try {
      const a = await rawConnect(address);
      const b = await rawConnect(address);
      const c = await rawConnect(address);
      await c.ended;
      expect(accepted).toHaveLength(2);
      expect(logger.lines.map((l) => [l.message, l.fields['reason']])).toEqual([['connection refused', 'max_connections (2) reached']]);
      a.socket.destroy();
      await accepted[0]!.closed;
      const d = await rawConnect(address);
      await new Promise((r) => setTimeout(r, 50));
      expect(accepted).toHaveLength(3);
      expect(d.socket.destroyed).toBe(false);
      b.socket.destroy();
      d.socket.destroy();
    } finally {
      await s.close();
    }
  });

  it('allowed_clients: only addresses with one of the prefixes stay', async () => {
    const refused = await server({ allowedClients: ['10.', '::1'] });
    const allowed = await server({ allowedClients: ['10.', '127.0.'] });
    try {
      const r = await rawConnect(refused.address);
      await r.ended;
      expect(refused.accepted).toHaveLength(0);
      expect(refused.logger.lines[0]).toMatchObject({ message: 'connection refused', fields: { remote: '127.0.0.1', reason: 'address not in allowed_clients' } });
      const ok = await rawConnect(allowed.address);
      await new Promise((res) => setTimeout(res, 50));
      expect(allowed.accepted).toHaveLength(1);
      ok.socket.destroy();
    } finally {
      await refused.s.close();
      await allowed.s.close();
    }
  });
});
