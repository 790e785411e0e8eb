import { createServer, type Server } from 'node:http';

/** What a route answers: status, content type and body. */
export interface RouteAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

export type Route = () => RouteAnswer | Promise<RouteAnswer>;

/** A running HTTP endpoint; `port` is the bound port (useful with port 0). */
export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A tiny GET-only HTTP server for /healthz, /readyz and /metrics. Any other
 * path or method is 404/405; a route that throws answers 500 with the reason,
 * and never takes the process down.
 */
export function serveHttp(host: string, port: number, routes: Readonly<Record<string, Route>>): Promise<HttpEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        (a) => res.writeHead(a.status, { 'content-type': a.contentType ?? 'text/plain; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : a.body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`),
      );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : port,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

/** A probe answer from a list of named checks: 200 "ok" or 503 naming what failed. */
export function probe(checks: Readonly<Record<string, () => boolean>>): RouteAnswer {
  const failed = Object.entries(checks).filter(([, ok]) => !ok()).map(([name]) => name);
  return failed.length === 0 ? { status: 200, body: 'ok\n' } : { status: 503, body: `not ready: ${failed.join(', ')}\n` };
}
