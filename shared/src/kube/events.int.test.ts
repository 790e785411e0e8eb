import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, EventsV1Api, type EventsV1Event } from '@kubernetes/client-node';
import { systemClock } from '../core/clock.js';
import { memoryLogger } from '../core/log.js';
import { createNamespace, deleteNamespace, testKubeConfig, uniqueNamespace } from './__fixtures__/cluster.js';
import { EventRecorder } from './events.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const events = kc.makeApiClient(EventsV1Api);
const ns = uniqueNamespace('herald-events');

describe('EventRecorder against kube-apiserver', () => {
  beforeAll(() => createNamespace(kc, ns), 30_000);
  afterAll(() => deleteNamespace(kc, ns), 30_000);

  it('creates events.k8s.io/v1 Events the API server accepts, once per identical Event', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'subject', namespace: ns } } });
    const { log, lines } = memoryLogger();
    const rec = new EventRecorder({ kc, component: 'herald-controller', instance: 'test-pod-0', clock: systemClock, log });
    const subject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject', namespace: ns, uid: cm.metadata?.uid } };

    rec.record(subject, 'Normal', 'IPAllocated', 'Assigned 192.0.2.10 from pool default');
    rec.record(subject, 'Normal', 'IPAllocated', 'Assigned 192.0.2.10 from pool default');
    rec.record(subject, 'Warning', 'NoPool', `no pool matches ${'x'.repeat(2000)}`);
    await rec.flush();
    rec.record(subject, 'Normal', 'IPAllocated', 'Assigned 192.0.2.10 from pool default');
    await rec.flush();
    expect(lines().filter((l) => l['event'] === 'eventFailed')).toEqual([]);

    const list = (await events.listNamespacedEvent({ namespace: ns })).items;
    expect(list).toHaveLength(2);
    const byReason = new Map<string, EventsV1Event>(list.map((e) => [e.reason ?? '', e]));
    expect(byReason.get('IPAllocated')).toMatchObject({
      reportingController: 'herald.io/herald-controller',
      reportingInstance: 'test-pod-0',
      action: 'IPAllocated',
      type: 'Normal',
      note: 'Assigned 192.0.2.10 from pool default',
      regarding: { kind: 'ConfigMap', name: 'subject', namespace: ns, uid: cm.metadata?.uid },
    });
    expect(byReason.get('NoPool')?.type).toBe('Warning');
    expect(Buffer.byteLength(byReason.get('NoPool')?.note ?? '')).toBeLessThanOrEqual(1024);
    // The legacy v1 view shows them too, which is what `kubectl describe` reads.
    const legacy = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=subject' })).items;
    expect(legacy.map((e) => e.reason).sort()).toEqual(['IPAllocated', 'NoPool']);
  }, 30_000);

  it('records Events about cluster-scoped objects in the default namespace', async () => {
    const nsObj = await core.readNamespace({ name: ns });
    const rec = new EventRecorder({ kc, component: 'herald-controller', instance: 'test-pod-0', clock: systemClock, log: memoryLogger().log });
    const reason = `Tested${process.pid}`;
    rec.record({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: nsObj.metadata?.uid } }, 'Normal', reason, 'about a cluster-scoped object');
    await rec.flush();
    const found = (await events.listNamespacedEvent({ namespace: 'default', fieldSelector: `reason=${reason}` })).items;
    try {
      expect(found).toHaveLength(1);
      expect(found[0]?.regarding).toMatchObject({ kind: 'Namespace', name: ns });
    } finally {
      for (const e of found) await events.deleteNamespacedEvent({ name: e.metadata?.name ?? '', namespace: 'default' });
    }
  }, 30_000);
});
