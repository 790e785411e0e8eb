import { KubeConfig, type RequestContext } from '@kubernetes/client-node';
import { Agent } from 'node:https';

/**
 * A KubeConfig whose API calls reuse TLS connections. client-node 1.4 builds a new
 * https.Agent for every request, so every call pays a TLS handshake on both ends;
 * profiled, that was about a third of the controller's CPU per Service and the
 * API server's too. Here the agent is cached per TLS identity (CA, client
 * certificate and key, verification settings): rotated credentials get a new one.
 * Proxy agents (not https.Agent) are left as client-node makes them.
 */
export class PooledKubeConfig extends KubeConfig {
  readonly #agents = new Map<string, Agent>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getAgent();
    if (!(made instanceof Agent)) return;
    const o = made.options;
    const id = [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername]
      .map((v) => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v)))
      .join('\u0000');
    let agent = this.#agents.get(id);
    if (!agent) {
      // A handful of identities at most (rotation); never let stale ones pile up.
      if (this.#agents.size >= 4) {
        for (const a of this.#agents.values()) a.destroy();
        this.#agents.clear();
      }
      agent = new Agent({ ...o, keepAlive: true, maxFreeSockets: 64 });
      this.#agents.set(id, agent);
    }
    context.setAgent(agent);
  }

  /** Closes idle pooled connections (shutdown). */
  closeIdle(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}
