/**
 * A plain JSON request to the API server, for the hot paths where client-node's generated
 * client costs more than the request itself: the controller's Service status PUT and its
 * start-up list of every Service. Profiled at
 * 10,000 Services, client-node's ObjectSerializer (walking its type maps to serialize the body
 * and to deserialize the answer) and its fetch middleware chain were the largest share of the
 * controller's own CPU, on a machine where the controller and the API server compete for the
 * same cores. Here the body is `JSON.stringify`, the answer is parsed only when asked for, and
 * TLS connections are kept alive.
 *
 * Authentication and TLS come from the KubeConfig (`applyToHTTPSOptions`), so it works with
 * whatever the generated client works with. Errors are client-node `ApiException`s, so
 * `isConflict`/`isNotFound`/`errorMessage` treat both paths alike.
 * @packageDocumentation
 */
import { ApiException, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Agent, request, type RequestOptions } from 'node:https';

export interface RawResponse {
  readonly status: number;
  /** The answer's text; parse it only if you need it. */
  readonly text: string;
}

/**
 * How long resolved credentials are reused. Resolving them (client-node's
 * `applyToHTTPSOptions`) reads or decodes the CA, certificate and key, asks the
 * authenticator for a token and builds an https.Agent we never use: profiled at 10,000
 * status writes, about 15% of the time spent in this client. Rotated files and
 * refreshed tokens are picked up within this time.
 */
const CREDENTIALS_TTL_MS = 1_000;

interface Resolved {
  readonly server: string;
  readonly headers: Record<string, string | string[] | number>;
  readonly agent: Agent;
}

export class RawJsonClient {
  readonly #kc: KubeConfig;
  #agent: { key: string; agent: Agent } | undefined;
  #resolved: { at: number; value: Promise<Resolved> } | undefined;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  /** Sends `body` as JSON; resolves on 2xx, rejects with an `ApiException` otherwise. */
  async request(method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, timeoutMs = 30_000): Promise<RawResponse> {
    const { server, headers, agent } = await this.#credentials();
    const url = new URL(path, server);
    const opts: RequestOptions = { method, headers, agent };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<RawResponse>((resolve, reject) => {
      const req = request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // Most answers (the status PUT's echo of the object) are never read: decode on demand.
          if (status >= 200 && status < 300) resolve(lazyText(status, chunks));
          else reject(new ApiException(status, `HTTP ${status} from ${method} ${path}`, Buffer.concat(chunks).toString('utf8'), flatHeaders(res.headers)));
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * One page of a list, as plain JSON (timestamps stay RFC 3339 strings, as in watch events).
   * Takes the informer's selectors and paging as they are (`_continue` is client-node's name).
   */
  async list<T extends KubernetesObject>(path: string, sel: { labelSelector?: string; fieldSelector?: string; limit?: number; _continue?: string } = {}): Promise<KubernetesListObject<T>> {
    const q = new URLSearchParams();
    if (sel.labelSelector !== undefined) q.set('labelSelector', sel.labelSelector);
    if (sel.fieldSelector !== undefined) q.set('fieldSelector', sel.fieldSelector);
    if (sel.limit !== undefined) q.set('limit', String(sel.limit));
    if (sel._continue !== undefined) q.set('continue', sel._continue);
    const query = q.toString();
    const res = await this.request('GET', query === '' ? path : `${path}?${query}`);
    const list = JSON.parse(res.text) as KubernetesListObject<T> & { metadata?: { continue?: string } };
    // The wire name is `continue`; client-node (and our informer) call it `_continue`.
    if (list.metadata?.continue !== undefined) {
      list.metadata._continue = list.metadata.continue;
      delete list.metadata.continue;
    }
    return list;
  }

  /** Server, headers and agent, resolved at most once per {@link CREDENTIALS_TTL_MS}. */
  #credentials(): Promise<Resolved> {
    const now = performance.now();
    if (this.#resolved === undefined || now - this.#resolved.at >= CREDENTIALS_TTL_MS) {
      const value = this.#resolve();
      this.#resolved = { at: now, value };
      // A failure (say, a token file briefly missing) is not remembered.
      value.catch(() => {
        if (this.#resolved?.value === value) this.#resolved = undefined;
      });
    }
    return this.#resolved.value;
  }

  async #resolve(): Promise<Resolved> {
    const server = this.#kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('kubeconfig has no current cluster');
    const opts: RequestOptions = { headers: { accept: 'application/json', 'content-type': 'application/json' } };
    // Sets CA, client certificate/key and the Authorization header (tokens refreshed as needed).
    await this.#kc.applyToHTTPSOptions(opts);
    return { server, headers: { ...(opts.headers as Record<string, string | string[] | number>) }, agent: this.#agentFor(opts) };
  }

  /** One keep-alive agent per TLS identity (a rotated certificate gets a new one). */
  #agentFor(o: RequestOptions): Agent {
    const key = [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername]
      .map((v) => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v)))
      .join('\u0000');
    if (this.#agent?.key !== key) {
      this.#agent?.agent.destroy();
      this.#agent = {
        key,
        agent: new Agent({ keepAlive: true, maxFreeSockets: 64, ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername }),
      };
    }
    return this.#agent.agent;
  }

  /** Closes idle connections (shutdown). */
  close(): void {
    this.#agent?.agent.destroy();
    this.#agent = undefined;
    this.#resolved = undefined;
  }
}

function lazyText(status: number, chunks: Buffer[]): RawResponse {
  let text: string | undefined;
  return {
    status,
    get text(): string {
      text ??= Buffer.concat(chunks).toString('utf8');
      return text;
    },
  };
}

function flatHeaders(h: NodeJS.Dict<string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
