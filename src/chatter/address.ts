// Chatter addresses (docs/protocol.md, "Addresses and TLS"): `tcp+sbs://host:port` and `ssl+sbs://host:port`.

export interface ChatterAddress {
  protocol: 'tcp' | 'ssl';
  host: string;
  port: number;
}

export function parseAddress(address: string): ChatterAddress {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new TypeError(`invalid chatter address ${JSON.stringify(address)}`);
  }
  const protocol = url.protocol === 'tcp+sbs:' ? 'tcp' : url.protocol === 'ssl+sbs:' ? 'ssl' : null;
  if (protocol === null) {
    throw new TypeError(`invalid chatter address ${JSON.stringify(address)}: scheme must be tcp+sbs or ssl+sbs`);
  }
  if (url.port === '') throw new TypeError(`invalid chatter address ${JSON.stringify(address)}: missing port`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new TypeError(`invalid chatter address ${JSON.stringify(address)}: missing host`);
  return { protocol, host, port: Number(url.port) };
}

export function formatAddress(protocol: 'tcp' | 'ssl', host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `${protocol}+sbs://${h}:${port}`;
}
