import { connect, createServer, type Server, type Socket } from 'node:net';

/** Where a forwarder listens or connects. */
export type Endpoint = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export const describeEndpoint = (e: Endpoint): string => (e.kind === 'tcp' ? `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}` : `unix:${e.path}`);

function dial(e: Endpoint): Socket {
  return e.kind === 'tcp' ? connect({ host: e.host, port: e.port, allowHalfOpen: true }) : connect({ path: e.path, allowHalfOpen: true });
}

/**
 * Listens on `listen` and splices every connection to a fresh connection to
 * `target`, byte for byte (TLS passes through untouched). Half-closes are passed
 * on; an error on either side destroys both. `onError` hears about failed dials.
 */
export function startForwarder(listen: Endpoint, target: Endpoint, onError: (err: Error) => void = () => undefined): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (downstream) => {
    const upstream = dial(target);
    const fail = (err: Error): void => {
      onError(new Error(`forward ${describeEndpoint(listen)} -> ${describeEndpoint(target)}: ${err.message}`, { cause: err }));
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', fail);
    upstream.on('error', fail);
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => downstream.destroy());
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = (): void => {
      server.off('error', reject);
      resolve(server);
    };
    if (listen.kind === 'tcp') server.listen(listen.port, listen.host, ready);
    else server.listen(listen.path, ready);
  });
}

/** Parses `PORT` as a TCP port. */
export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * The forwarder's command line: `unix-to-tcp SOCKET HOST PORT` (root namespace:
 * Unix socket -> API server) or `tcp-to-unix HOST PORT SOCKET` (inside a namespace:
 * its loopback -> the Unix socket, which is reachable because the filesystem is shared).
 */
export function parseForwarderArgs(argv: readonly string[]): { listen: Endpoint; target: Endpoint } | { error: string } {
  const [mode, a, b, c, ...rest] = argv;
  const usage = 'usage: forwarder.js unix-to-tcp SOCKET HOST PORT | tcp-to-unix HOST PORT SOCKET';
  if (rest.length > 0 || a === undefined || b === undefined || c === undefined) return { error: usage };
  if (mode === 'unix-to-tcp') {
    const port = parsePort(c);
    return port === undefined ? { error: `bad port ${c}; ${usage}` } : { listen: { kind: 'unix', path: a }, target: { kind: 'tcp', host: b, port } };
  }
  if (mode === 'tcp-to-unix') {
    const port = parsePort(b);
    return port === undefined ? { error: `bad port ${b}; ${usage}` } : { listen: { kind: 'tcp', host: a, port }, target: { kind: 'unix', path: c } };
  }
  return { error: usage };
}
