import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { TestCluster, eventually, sleep, startController } from './testkit/kube.js';

/**
 * The API server goes away and comes back under a running controller. Its watch
 * cache restarts at etcd's current revision, so informers that resume from older
 * revisions get 410 Gone and must relist: no assignment may be lost or duplicated.
 */

describe('the API server restarting under the controller', () => {
  let cp: ControlPlane;
  let c: TestCluster;
  beforeAll(async () => {
    cp = await startControlPlane();
    c = await TestCluster.create('resil', cp.kubeconfigPath);
  }, 60_000);
  afterAll(async () => {
    await cp?.stop();
  });

  it('keeps every assignment, assigns what arrived meanwhile, and never duplicates an IP', async () => {
    await c.pool('p', { addresses: ['10.30.0.0/24'] });
    const run = await startController(c);
    try {
      for (let i = 0; i < 40; i++) await c.service(`before-${i}`);
      await eventually('40 allocated', async () => (await c.core.listNamespacedService({ namespace: c.ns })).items.every((s) => (s.status?.loadBalancer?.ingress?.length ?? 0) === 1), 30_000);
      const before = new Map((await c.core.listNamespacedService({ namespace: c.ns })).items.map((s) => [s.metadata?.name, s.status?.loadBalancer?.ingress?.[0]?.ip]));

      // Down for 3 s: every watch breaks, every request fails; the controller must ride it out.
      await cp.restartApiServer(() => sleep(3_000));
      expect(run.controller.ready).toBe(true);

      // Changes made right after the restart: a deletion, and new Services.
      await c.deleteService('before-0');
      for (let i = 0; i < 20; i++) await c.service(`after-${i}`);
      await eventually('60 settled', async () => {
        const items = (await c.core.listNamespacedService({ namespace: c.ns })).items;
        return items.length === 59 && items.every((s) => (s.status?.loadBalancer?.ingress?.length ?? 0) === 1);
      }, 30_000);
      const after = (await c.core.listNamespacedService({ namespace: c.ns })).items;
      for (const s of after) {
        const name = s.metadata?.name;
        if (name?.startsWith('before-')) expect(s.status?.loadBalancer?.ingress?.[0]?.ip).toBe(before.get(name));
      }
      const ips = after.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip);
      expect(new Set(ips).size).toBe(ips.length);
      // The IP freed by the deletion is reused: the controller saw the delete despite the outage.
      expect(ips).toContain(before.get('before-0'));
    } finally {
      await run.stop();
    }
  });
});
