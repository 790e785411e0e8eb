import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Pki } from './pki.js';

/** A response from the API server, body as text. */
export interface RestResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * Minimal HTTPS client for the harness's own needs (readiness, CRD install),
 * authenticating as admin. Tests use @kubernetes/client-node or kubectl instead.
 */
export class AdminRest {
  private readonly ca: Buffer;
  private readonly cert: Buffer;
  private readonly key: Buffer;

  constructor(
    readonly server: string,
    pki: Pick<Pki, 'caCert' | 'adminCert' | 'adminKey'>,
  ) {
    this.ca = readFileSync(pki.caCert);
    this.cert = readFileSync(pki.adminCert);
    this.key = readFileSync(pki.adminKey);
  }

  send(method: string, path: string, body?: string, contentType = 'application/json', timeoutMs = 5_000): Promise<RestResponse> {
    const url = new URL(path, this.server);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.ca,
          cert: this.cert,
          key: this.key,
          timeout: timeoutMs,
          headers: body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
