/**
 * Helpers for *.int.test.ts in this folder: a kubeconfig for the shared test control plane,
 * a namespace per test file, a TCP proxy that can cut the API server off, and polling.
 */
import { Agent, request } from 'node:https';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { CoordinationV1Api, CoreV1Api, EventsV1Api, KubeConfig } from '@kubernetes/client-node';
import { testKubeconfigPath } from '@herald/e2e-harness';

/** A KubeConfig for the control plane that Jest's global setup started. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testKubeconfigPath());
  return kc;
}

/** A copy of `kc` that talks to `server` instead (same credentials and CA). */
export function withServer(kc: KubeConfig, server: string): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}

/** A unique namespace name for one test file. */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

/**
 * Deletes the namespace's contents that tests create, then the namespace. No
 * namespace controller runs in the test control plane, so deleting only the namespace
 * would leave its objects in etcd for the rest of the run.
 */
export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.deleteCollectionNamespacedConfigMap({ namespace: name });
  await kc.makeApiClient(CoordinationV1Api).deleteCollectionNamespacedLease({ namespace: name });
  await kc.makeApiClient(EventsV1Api).deleteCollectionNamespacedEvent({ namespace: name });
  await core.deleteNamespace({ name });
}

/** Polls `check` every 20 ms until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of the API server. `cut()` drops every connection
 * and stops listening (clients see resets, then ECONNREFUSED), as when the API server
 * goes away; `restore()` listens again on the same port.
 */
export class ApiProxy {
  readonly #target: URL;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;

  constructor(server: string) {
    this.#target = new URL(server);
  }

  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.#target.port), this.#target.hostname);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    const addr = server.address();
    if (addr && typeof addr === 'object') this.#port = addr.port;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  restore(): Promise<void> {
    return this.start();
  }
}

/**
 * Creates many objects quickly: one keep-alive connection pool, where client-node opens a
 * new TLS connection per request (about ten times slower for bulk set-up).
 */
export async function bulkCreate(kc: KubeConfig, path: string, bodies: readonly object[], parallel = 16): Promise<void> {
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new Agent({ keepAlive: true, maxSockets: parallel, ...tls });
  const base = new URL(kc.getCurrentCluster()?.server ?? '');
  const post = (body: object): Promise<void> =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = request(
        { host: base.hostname, port: base.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`POST ${path}: HTTP ${res.statusCode}: ${text}`))));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let i = next++; i < bodies.length; i = next++) await post(bodies[i] ?? {});
      }),
    );
  } finally {
    agent.destroy();
  }
}
