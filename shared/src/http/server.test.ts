import { describe, expect, it } from '@jest/globals';
import { probe, serveHttp } from './server.js';

describe('health and metrics endpoint', () => {
  it('answers routes, 404 elsewhere, 405 for writes, 500 when a route throws', async () => {
    let ready = false;
    const ep = await serveHttp('127.0.0.1', 0, {
      '/readyz': () => probe({ caches: () => ready }),
      '/boom': () => {
        throw new Error('kaput');
      },
    });
    try {
      const get = async (p: string, method = 'GET') => {
        const r = await fetch(`http://127.0.0.1:${ep.port}${p}`, { method });
        return [r.status, await r.text()];
      };
      expect(await get('/readyz')).toEqual([503, 'not ready: caches\n']);
      ready = true;
      expect(await get('/readyz')).toEqual([200, 'ok\n']);
      expect((await get('/nope'))[0]).toBe(404);
      expect((await get('/readyz', 'POST'))[0]).toBe(405);
      expect(await get('/boom')).toEqual([500, 'kaput\n']);
    } finally {
      await ep.close();
    }
  });
});
