import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { systemClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { ApiProxy, bulkCreate, createNamespace, deleteNamespace, testKubeConfig, uniqueNamespace, waitFor, withServer } from './__fixtures__/cluster.js';
import { createInformer, type Informer, type InformerEvent } from './informer.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const ns = uniqueNamespace('herald-informer');

const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = { test: 'informer' }): V1ConfigMap => ({
  metadata: { name, namespace: ns, labels },
  data,
});

function informerOn(config: KubeConfig, labelSelector: string, log = memoryLogger('debug').log): {
  inf: Informer<V1ConfigMap>;
  events: InformerEvent<V1ConfigMap>[];
} {
  const api = config.makeApiClient(CoreV1Api);
  const inf = createInformer<V1ConfigMap>(config, {
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: (sel) => api.listNamespacedConfigMap({ namespace: ns, ...sel }),
    labelSelector,
    log,
    clock: systemClock,
  });
  const events: InformerEvent<V1ConfigMap>[] = [];
  inf.onChange((ev) => events.push(ev));
  return { inf, events };
}

const names = (inf: Informer<V1ConfigMap>): string[] =>
  inf
    .list(ns)
    .map((c) => c.metadata?.name ?? '')
    .sort();

describe('informer against kube-apiserver', () => {
  beforeAll(() => createNamespace(kc, ns), 30_000);
  afterAll(() => deleteNamespace(kc, ns), 120_000);

  it('shows objects created before start once start() resolves, then updates and deletes as they happen', async () => {
    for (const n of ['a', 'b', 'c']) await core.createNamespacedConfigMap({ namespace: ns, body: configMap(n, { v: '1' }, { test: 'basic' }) });
    // Not matching the selector: never seen.
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('other', {}, { test: 'nope' }) });
    const { inf, events } = informerOn(kc, 'test=basic');
    try {
      await inf.start();
      expect(inf.hasSynced()).toBe(true);
      expect(names(inf)).toEqual(['a', 'b', 'c']);
      expect(inf.get(ns, 'a')).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { v: '1' } });
      expect(events.map((e) => e.type)).toEqual(['add', 'add', 'add']);

      await core.replaceNamespacedConfigMap({ name: 'a', namespace: ns, body: { ...inf.get(ns, 'a'), data: { v: '2' } } });
      await core.deleteNamespacedConfigMap({ name: 'b', namespace: ns });
      await core.createNamespacedConfigMap({ namespace: ns, body: configMap('d', {}, { test: 'basic' }) });
      await waitFor('update, delete and add', () => events.length >= 6);
      expect(events.slice(3).map((e) => `${e.type} ${e.obj.metadata?.name}`)).toEqual(['update a', 'delete b', 'add d']);
      const update = events[3];
      expect(update?.old?.data).toEqual({ v: '1' });
      expect(update?.obj.data).toEqual({ v: '2' });
      expect(inf.get(ns, 'a')?.data).toEqual({ v: '2' });
      expect(names(inf)).toEqual(['a', 'c', 'd']);
    } finally {
      inf.stop();
    }
  }, 30_000);

  it('recovers when the API server goes away and comes back, without losing changes made meanwhile', async () => {
    for (const n of ['keep', 'change', 'vanish']) await core.createNamespacedConfigMap({ namespace: ns, body: configMap(n, { v: '1' }, { test: 'outage' }) });
    const server = kc.getCurrentCluster()?.server ?? '';
    const proxy = new ApiProxy(server);
    await proxy.start();
    const { log, lines } = memoryLogger('debug');
    const { inf, events } = informerOn(withServer(kc, proxy.url), 'test=outage', log);
    try {
      await inf.start();
      expect(names(inf)).toEqual(['change', 'keep', 'vanish']);

      await proxy.cut();
      // While the informer cannot reach the API server:
      const change = await core.readNamespacedConfigMap({ name: 'change', namespace: ns });
      await core.replaceNamespacedConfigMap({ name: 'change', namespace: ns, body: { ...change, data: { v: '2' } } });
      await core.deleteNamespacedConfigMap({ name: 'vanish', namespace: ns });
      await core.createNamespacedConfigMap({ namespace: ns, body: configMap('new', {}, { test: 'outage' }) });
      await waitFor('a few failed reconnects', () => lines().filter((l) => l['event'] === 'watchFailed').length >= 3);
      expect(names(inf)).toEqual(['change', 'keep', 'vanish']); // stale, as it must be

      await proxy.restore();
      await waitFor('the cache to catch up', () => names(inf).join() === 'change,keep,new' && inf.get(ns, 'change')?.data?.['v'] === '2', 15_000);
      const after = events.slice(3).map((e) => `${e.type} ${e.obj.metadata?.name}`);
      expect(after.sort()).toEqual(['add new', 'delete vanish', 'update change']);

      // And it keeps watching afterwards.
      await core.deleteNamespacedConfigMap({ name: 'keep', namespace: ns });
      await waitFor('the delete after recovery', () => inf.get(ns, 'keep') === undefined);
      // Backoff stayed within its cap: no delay logged above 5 s.
      const delays = lines()
        .filter((l) => l['event'] === 'watchFailed')
        .map((l) => Number(l['delayMs']));
      expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
    } finally {
      inf.stop();
      await proxy.cut();
    }
  }, 30_000);

  it('syncs 10,000 objects and answers gets by key', async () => {
    const n = 10_000;
    const label = { test: 'bulk' };
    await bulkCreate(kc, `/api/v1/namespaces/${ns}/configmaps`, Array.from({ length: n }, (_, i) => configMap(`bulk-${i}`, { i: String(i) }, label)));
    const { inf } = informerOn(kc, 'test=bulk');
    try {
      const t0 = performance.now();
      await inf.start();
      const syncMs = performance.now() - t0;
      expect(inf.size).toBe(n);
      const t1 = performance.now();
      let found = 0;
      for (let i = 0; i < n; i++) if (inf.get(ns, `bulk-${i}`)?.data?.['i'] === String(i)) found++;
      const getMs = performance.now() - t1;
      expect(found).toBe(n);
      // About 0.25 s on a laptop; the bound only catches a quadratic regression.
      expect(syncMs).toBeLessThan(10_000);
      expect(getMs).toBeLessThan(200); // O(1) each: a few ms for all 10,000
    } finally {
      inf.stop();
    }
  }, 180_000);
});
