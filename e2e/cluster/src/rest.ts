/** A minimal client for the cluster's API server with the admin certificate (start-up waits and status). */
import { readFileSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import { Agent as HttpsAgent } from 'node:https';

export interface RestResponse {
  readonly status: number;
  readonly body: string;
}

export interface AdminCredentials {
  readonly caCert: string;
  readonly adminCert: string;
  readonly adminKey: string;
}

export class KubeRest {
  private readonly agent: Agent;

  constructor(
    private readonly server: string,
    creds: AdminCredentials,
  ) {
    this.agent = new HttpsAgent({
      ca: readFileSync(creds.caCert),
      cert: readFileSync(creds.adminCert),
      key: readFileSync(creds.adminKey),
      keepAlive: true,
      maxSockets: 4,
    });
  }

  send(method: string, path: string, body?: unknown, timeoutMs = 5_000): Promise<RestResponse> {
    const url = new URL(path, this.server);
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          timeout: timeoutMs,
          headers: { accept: 'application/json', ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  async getJson<T>(path: string): Promise<T | undefined> {
    const r = await this.send('GET', path);
    return r.status === 200 ? (JSON.parse(r.body) as T) : undefined;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What `status` and the readiness wait read from a Node. */
export interface NodeSummary {
  readonly name: string;
  readonly ready: boolean;
  /** The Ready condition's reason or message when not Ready. */
  readonly why: string;
  readonly internalIp: string;
  readonly podCidr: string;
  readonly kubeletVersion: string;
}

interface NodeList {
  items?: {
    metadata?: { name?: string };
    spec?: { podCIDR?: string };
    status?: {
      conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
      addresses?: { type?: string; address?: string }[];
      nodeInfo?: { kubeletVersion?: string };
    };
  }[];
}

/** Parses `GET /api/v1/nodes` into summaries, sorted by name. */
export function summarizeNodes(json: unknown): NodeSummary[] {
  const items = (json as NodeList).items ?? [];
  return items
    .map((n): NodeSummary => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return {
        name: n.metadata?.name ?? '?',
        ready: ready?.status === 'True',
        why: ready ? (ready.status === 'True' ? '' : `${ready.reason ?? ''}${ready.message ? `: ${ready.message}` : ''}`) : 'no Ready condition yet',
        internalIp: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
        podCidr: n.spec?.podCIDR ?? '',
        kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? '',
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}
