/**
 * HTTP by name through one IP, the way `curl --resolve NAME:PORT:IP http://NAME/` does: the
 * URL names the virtual host, the connection goes to the given IP, no resolver is asked.
 * This is how the sandbox's client reaches two host names behind one Herald IP.
 */
import { request } from 'node:http';
import { isIPv4, isIPv6, type LookupFunction } from 'node:net';
import type { Answer } from './table.js';

/** Bodies longer than this are cut (the backends answer with a short name). */
const MAX_BODY = 16 * 1024;

/** A lookup that answers every name with `ip`, in both of Node's callback shapes. */
export function pinnedLookup(ip: string): LookupFunction {
  const family = isIPv6(ip) ? 6 : 4;
  return (_hostname, options, callback) => {
    const cb = callback as (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;
    if (options.all) cb(null, [{ address: ip, family }]);
    else cb(null, ip, family);
  };
}

/**
 * One GET of `http://hostName:port/` with the connection pinned to `ip`, bounded by
 * `timeoutMs`. Never rejects for a network failure: `ok` is false and `code` says why.
 */
export function getByName(hostName: string, ip: string, port: number, timeoutMs: number): Promise<Answer> {
  if (!isIPv4(ip) && !isIPv6(ip)) return Promise.reject(new Error(`getByName: ${JSON.stringify(ip)} is not an IP address`));
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
    const url = `http://${hostName}${port === 80 ? '' : `:${port}`}/`;
    const req = request(url, { method: 'GET', agent: false, lookup: pinnedLookup(ip), headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        if (size < MAX_BODY) chunks.push(b.subarray(0, MAX_BODY - size));
        size += b.length;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        finish({ ok: status >= 200 && status < 300, status, body: Buffer.concat(chunks).toString('utf8').trim(), code: 'OK' });
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, status: res.statusCode ?? 0, code: err.code ?? 'ERROR' }));
    });
    const timer = setTimeout(() => finish({ ok: false, code: 'TIMEOUT' }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, code: err.code ?? 'ERROR' }));
    req.end();
  });
}
