import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, type V1Service } from '@kubernetes/client-node';
import { errorMessage, isConflict, isNotFound } from '../core/errors.js';
import { createNamespace, deleteNamespace, testKubeConfig, uniqueNamespace } from './__fixtures__/cluster.js';
import { RawJsonClient } from './raw.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const ns = uniqueNamespace('herald-raw');
const raw = new RawJsonClient(kc);

describe('RawJsonClient against kube-apiserver', () => {
  beforeAll(() => createNamespace(kc, ns), 30_000);
  afterAll(async () => {
    raw.close();
    await deleteNamespace(kc, ns);
  }, 30_000);

  it('PUTs a Service status as the generated client would, and reports conflicts as the same errors', async () => {
    const created = await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] } },
    });
    const path = `/api/v1/namespaces/${ns}/services/web/status`;
    const next: V1Service = { ...created, status: { loadBalancer: { ingress: [{ ip: '192.0.2.7', ipMode: 'VIP' }] } } };
    const res = await raw.request('PUT', path, next);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as V1Service).status?.loadBalancer?.ingress?.[0]?.ip).toBe('192.0.2.7');
    expect((await core.readNamespacedServiceStatus({ namespace: ns, name: 'web' })).status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.7', ipMode: 'VIP' }]);

    // The same stale resourceVersion again: someone (we) wrote in between.
    const stale = await raw.request('PUT', path, next).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
    expect(errorMessage(stale)).toMatch(/^HTTP 409: .*the object has been modified/);

    // Deleted meanwhile: a PUT carrying the old object must not re-create it (Services allow
    // create-on-update; the UID precondition refuses it with 409 instead).
    await core.deleteNamespacedService({ namespace: ns, name: 'web' });
    const gone = await raw.request('PUT', path, next).catch((e: unknown) => e);
    expect(isConflict(gone)).toBe(true);
    const read = await core.readNamespacedService({ namespace: ns, name: 'web' }).catch((e: unknown) => e);
    expect(isNotFound(read)).toBe(true);
  });

  it('lists in pages with selectors, as plain JSON', async () => {
    for (const i of [1, 2, 3]) {
      await core.createNamespacedService({ namespace: ns, body: { metadata: { name: `l${i}`, labels: { list: i === 3 ? 'no' : 'yes' } }, spec: { ports: [{ port: 80 }] } } });
    }
    const first = await raw.list<V1Service>(`/api/v1/namespaces/${ns}/services`, { labelSelector: 'list=yes', limit: 1 });
    expect(first.items.map((s) => s.metadata?.name)).toEqual(['l1']);
    expect(typeof first.items[0]?.metadata?.creationTimestamp).toBe('string');
    const cont = first.metadata?._continue;
    expect(cont).toBeTruthy();
    const second = await raw.list<V1Service>(`/api/v1/namespaces/${ns}/services`, { labelSelector: 'list=yes', limit: 1, _continue: cont ?? '' });
    expect(second.items.map((s) => s.metadata?.name)).toEqual(['l2']);
  });

  it('resolves credentials once for a burst of requests, and again after they may have changed', async () => {
    // Counts how often the client asks the KubeConfig for CA, certificate, key and token.
    let resolved = 0;
    const counting = testKubeConfig();
    const apply = counting.applyToHTTPSOptions.bind(counting);
    counting.applyToHTTPSOptions = async (opts) => {
      resolved++;
      await apply(opts);
    };
    const c = new RawJsonClient(counting);
    try {
      await Promise.all(Array.from({ length: 20 }, () => c.request('GET', `/api/v1/namespaces/${ns}`)));
      expect(resolved).toBe(1);
      await new Promise((r) => setTimeout(r, 1_100));
      await c.request('GET', `/api/v1/namespaces/${ns}`);
      expect(resolved).toBe(2);
    } finally {
      c.close();
    }
  });
});
