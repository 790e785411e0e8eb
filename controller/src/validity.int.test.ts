import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { TestCluster, eventually, startController } from './testkit/kube.js';

/** The Valid condition of every configuration kind, on the real API server. */

let c: TestCluster;
let run: Awaited<ReturnType<typeof startController>> | undefined;

beforeEach(async () => {
  c = await TestCluster.create('validity');
});
afterEach(async () => {
  await run?.stop();
  run = undefined;
  await c.cleanup();
});

const KINDS = [
  ['L2Advertisement', 'l2advertisements', { ipAddressPools: ['p'] }, { ipAddressPools: 'p' }],
  ['BGPAdvertisement', 'bgpadvertisements', { localPref: 100 }, { aggregationLength: 40 }],
  ['BGPPeer', 'bgppeers', { myASN: 64500, peerASN: 64512, peerAddress: '192.0.2.1' }, { myASN: 64500, peerASN: 64512, peerAddress: '192.0.2.999' }],
  ['BFDProfile', 'bfdprofiles', { receiveInterval: 300 }, { receiveInterval: 1 }],
  ['Community', 'communities', { communities: [{ name: 'a', value: '64500:1' }] }, { communities: [{ name: 'a', value: 'x:y' }] }],
] as const;

type Obj = { metadata: { resourceVersion: string; generation?: number }; status?: { conditions?: { type: string; status: string; reason: string; observedGeneration?: number }[] } };

describe('configuration objects carry a Valid condition written by the controller', () => {
  it.each(KINDS)('%s: Valid=True when in force; an invalid edit is refused at admission and changes nothing', async (kind, plural, good, bad) => {
    await c.pool('p', { addresses: ['192.0.2.0/28'] });
    run = await startController(c);
    const api = { group: 'herald.io', version: 'v1beta1', namespace: c.ns, plural };
    await c.custom.createNamespacedCustomObject({ ...api, body: { apiVersion: 'herald.io/v1beta1', kind, metadata: { name: 'x' }, spec: good } });
    const cond = await eventually(`${kind} Valid=True`, async () => {
      const o = (await c.custom.getNamespacedCustomObject({ ...api, name: 'x' })) as Obj;
      return o.status?.conditions?.find((x) => x.type === 'Valid' && x.status === 'True');
    });
    expect(cond).toMatchObject({ reason: 'Valid', observedGeneration: 1 });
    // The CRD carries the same rules as the model (one schema source): the API server refuses
    // the edit, so the object in force is untouched. Edits only the model can judge (a pool
    // range written backwards) are covered by the pools test and the speaker e2e.
    const cur = (await c.custom.getNamespacedCustomObject({ ...api, name: 'x' })) as Obj;
    await expect(
      c.custom.replaceNamespacedCustomObject({ ...api, name: 'x', body: { apiVersion: 'herald.io/v1beta1', kind, metadata: { name: 'x', resourceVersion: cur.metadata.resourceVersion }, spec: bad } }),
    ).rejects.toMatchObject({ code: 422 });
    const after = (await c.custom.getNamespacedCustomObject({ ...api, name: 'x' })) as Obj & { spec: unknown };
    expect(after.metadata.generation).toBe(1);
  });
});

describe('a pool edit the API server accepts but the model refuses', () => {
  it('marks the pool Valid=False with the reason, sends a Warning Event, and keeps every IP', async () => {
    await c.pool('p', { addresses: ['192.0.2.0/28'] });
    run = await startController(c);
    await c.service('a');
    await c.waitIPs('a', ['192.0.2.0']);
    await c.setPoolSpec('p', { addresses: ['192.0.2.0/28', '192.0.2.40-192.0.2.30'] });
    const valid = await eventually('pool Valid=False', async () => {
      const s = (await c.getPool('p')).status as Obj['status'] & { conditions?: { message?: string }[] };
      return s?.conditions?.find((x) => x.type === 'Valid' && x.status === 'False');
    });
    expect(valid).toMatchObject({ reason: 'InvalidSpec', observedGeneration: 2 });
    expect((valid as { message?: string }).message).toMatch(/runs backwards.*last valid version stays in force/);
    const warning = await eventually('a Warning Event on the pool', async () => {
      const list = await c.events.listNamespacedEvent({ namespace: c.ns });
      return list.items.find((e) => e.reason === 'InvalidConfiguration' && e.regarding?.name === 'p' && e.type === 'Warning');
    });
    expect(warning.note).toContain('runs backwards');
    // A new Service still gets an IP? No: a frozen pool hands out nothing new; the old one keeps its IP.
    await c.service('b');
    await c.waitCondition('b', 'NoMatchingPool');
    expect(await c.ips('a')).toEqual(['192.0.2.0']);
  });
});
