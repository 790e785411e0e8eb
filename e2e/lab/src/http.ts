import { request, createServer, type Server } from 'node:http';
import { isIPv6, type AddressInfo } from 'node:net';
import { parsePort } from './forward.js';

/** The outcome of one HTTP GET (see {@link httpGet}); never a thrown network error. */
export interface HttpResult {
  /** A response arrived and its status is 2xx. */
  readonly ok: boolean;
  /** The response status, when a response arrived. */
  readonly status?: number;
  /** The response body as UTF-8 (at most {@link MAX_BODY} bytes), when a response arrived. */
  readonly body?: string;
  /** `OK` when a response arrived (whatever its status); otherwise `TIMEOUT`, `ECONNREFUSED`, `EHOSTUNREACH`, ... */
  readonly code: string;
  readonly ms: number;
}

/** The header naming the host that answered, besides the body. */
export const NODE_HEADER = 'x-herald-node';
/** Bodies longer than this are cut (the responder's are a host name and a newline). */
export const MAX_BODY = 64 * 1024;

/** `http://IP:PORT/`, with the brackets an IPv6 literal needs. */
export function httpUrl(ip: string, port: number, path = '/'): string {
  return `http://${isIPv6(ip) ? `[${ip}]` : ip}:${port}${path}`;
}

/**
 * One GET of `http://ip:port/` on a fresh connection (no keep-alive), bounded by
 * `timeoutMs` from the first SYN to the last body byte. Network failures resolve
 * with `ok: false` and the socket error code, or `TIMEOUT`.
 */
export function httpGet(ip: string, port: number, timeoutMs: number): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: { ok: boolean; code: string; status?: number; body?: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...r, ms: Math.round(performance.now() - started) });
    };
    const req = request(httpUrl(ip, port), { method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        if (size < MAX_BODY) chunks.push(b.subarray(0, MAX_BODY - size));
        size += b.length;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        finish({ ok: status >= 200 && status < 300, status, body: Buffer.concat(chunks).toString('utf8'), code: 'OK' });
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, status: res.statusCode ?? 0, code: err.code ?? 'ERROR' }));
    });
    const timer = setTimeout(() => finish({ ok: false, code: 'TIMEOUT' }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, code: err.code ?? 'ERROR' }));
    req.end();
  });
}

/** The responder's command line: `--port P --name NAME [--exit-on-stdin-close]`. */
export interface ResponderArgs {
  readonly port: number;
  readonly name: string;
  /** Exit when stdin closes (the lab starts it with a piped stdin, so it cannot outlive the test process). */
  readonly exitOnStdinClose: boolean;
}

const RESPONDER_USAGE = 'usage: responder.js --port P --name NAME [--exit-on-stdin-close]';

export function parseResponderArgs(argv: readonly string[]): ResponderArgs | { error: string } {
  let port: number | undefined;
  let name: string | undefined;
  let exitOnStdinClose = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--exit-on-stdin-close') {
      exitOnStdinClose = true;
      continue;
    }
    const value = argv[i + 1];
    i++;
    if (flag === '--port') {
      port = parsePort(value);
      if (port === undefined) return { error: `bad port ${JSON.stringify(value ?? '')}; ${RESPONDER_USAGE}` };
    } else if (flag === '--name') {
      // The name goes into a header as well as the body: printable ASCII only.
      if (value === undefined || !/^[\x21-\x7e]{1,253}$/.test(value)) return { error: `bad name ${JSON.stringify(value ?? '')}; ${RESPONDER_USAGE}` };
      name = value;
    } else {
      return { error: `unknown argument ${JSON.stringify(flag)}; ${RESPONDER_USAGE}` };
    }
  }
  if (port === undefined || name === undefined) return { error: RESPONDER_USAGE };
  return { port, name, exitOnStdinClose };
}

/**
 * An HTTP server on `[::]:port` (dual-stack: IPv4 arrives as ::ffff:a.b.c.d) that
 * answers every request with 200 and the body `name\n`, and names itself in
 * `x-herald-node` too. Resolves once listening; `port` 0 picks a free one. `host`
 * is for tests outside a lab, which must stay on loopback.
 */
export function startResponder(port: number, name: string, host = '::'): Promise<Server> {
  const body = `${name}\n`;
  const server = createServer((req, res) => {
    // Answer at once; whatever body the request has is read and discarded.
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), [NODE_HEADER]: name });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** The port a listening server got. */
export function listeningPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
