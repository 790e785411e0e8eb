import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { TestCluster, eventually, startController } from './testkit/kube.js';

/** Pool edits and pool status on the real API server. */

let c: TestCluster;
let run: Awaited<ReturnType<typeof startController>> | undefined;

beforeEach(async () => {
  c = await TestCluster.create('pools');
});
afterEach(async () => {
  await run?.stop();
  run = undefined;
  await c.cleanup();
});

async function poolStatus(name: string): Promise<Record<string, unknown>> {
  return (await c.getPool(name)).status ?? {};
}

async function waitPoolStatus(name: string, want: Record<string, unknown>): Promise<Record<string, unknown>> {
  return eventually(`pool ${name} status ${JSON.stringify(want)}`, async () => {
    const s = await poolStatus(name);
    return Object.entries(want).every(([k, v]) => JSON.stringify(s[k]) === JSON.stringify(v)) ? s : undefined;
  });
}

describe('pool edits never move an IP the pool still contains', () => {
  it('keeps every IP across grow, rename and split, and moves only the IPs a shrink drops, with an Event', async () => {
    await c.pool('p', { addresses: ['192.0.2.0/30'] });
    run = await startController(c);
    for (const n of ['a', 'b', 'c']) await c.service(n);
    await c.waitIPs('c', ['192.0.2.2']);

    await c.setPoolSpec('p', { addresses: ['192.0.2.0/29'] }); // grow
    // rename: a new pool with the same addresses, then the old one deleted.
    await c.deletePool('p');
    await c.pool('renamed', { addresses: ['192.0.2.0/29'] });
    await eventually('annotation follows the rename', async () => (await c.getService('b')).metadata?.annotations?.['herald.io/ip-allocated-from-pool'] === 'renamed');
    // split: two pools that together hold the same addresses.
    await c.deletePool('renamed');
    await c.pool('low', { addresses: ['192.0.2.0/31'] });
    await c.pool('high', { addresses: ['192.0.2.2/31', '192.0.2.4/30'] });
    await eventually('annotation follows the split', async () => (await c.getService('c')).metadata?.annotations?.['herald.io/ip-allocated-from-pool'] === 'high');
    expect([await c.ips('a'), await c.ips('b'), await c.ips('c')]).toEqual([['192.0.2.0'], ['192.0.2.1'], ['192.0.2.2']]);
    // Not even for a moment: the rename passed through "no pool" and nothing was released.
    for (const n of ['a', 'b', 'c']) expect((await c.eventsFor(n)).map((e) => e.reason)).not.toContain('IPReleased');

    // shrink: 192.0.2.2 leaves every pool; c moves, a and b stay.
    await c.setPoolSpec('high', { addresses: ['192.0.2.4/30'] });
    await c.waitIPs('c', ['192.0.2.4']);
    expect(await c.waitEvent('c', 'IPReleased')).toContain('no pool contains 192.0.2.2 any more');
    expect([await c.ips('a'), await c.ips('b')]).toEqual([['192.0.2.0'], ['192.0.2.1']]);
  });

  it('leaves Services without an IP, saying why, when their pool is deleted and none other fits', async () => {
    await c.pool('only', { addresses: ['192.0.2.16/30'] });
    run = await startController(c);
    await c.service('s');
    await c.waitIPs('s', ['192.0.2.16']);
    await c.deletePool('only');
    await c.waitIPs('s', []);
    expect((await c.waitCondition('s', 'NoMatchingPool')).message).toContain('no IPAddressPool exists');
  });
});

describe('pool status', () => {
  it('counts a 2^64-address IPv6 pool exactly, as decimal strings beyond 2^53', async () => {
    await c.pool('big', { addresses: ['2001:db8:64::/64', '192.0.2.32/30'] });
    run = await startController(c);
    for (const n of ['x', 'y']) await c.service(n, { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } });
    await c.service('z');
    await waitPoolStatus('big', { assignedIPv6: 2, availableIPv6: '18446744073709551614', assignedIPv4: 1, availableIPv4: 3 });
    const s = await poolStatus('big');
    expect(s['conditions']).toEqual([expect.objectContaining({ type: 'Valid', status: 'True', reason: 'Valid' })]);
  });

  it('marks the newer of two overlapping pools Invalid, names the older, and never uses it', async () => {
    await c.pool('older', { addresses: ['192.0.2.64/29'] });
    run = await startController(c);
    await c.service('first');
    await c.waitIPs('first', ['192.0.2.64']);
    await c.pool('newer', { addresses: ['192.0.2.68-192.0.2.90'] });
    const st = await eventually('newer Invalid', async () => {
      const conds = (await poolStatus('newer'))['conditions'] as { type: string; status: string; reason: string; message: string }[] | undefined;
      return conds?.find((x) => x.type === 'Valid' && x.status === 'False');
    });
    expect(st.reason).toBe('Overlap');
    expect(st.message).toContain('of pool older');
    // Asking for the invalid pool by name gets a reason, not an IP.
    await c.service('wants-newer', { annotations: { 'herald.io/address-pool': 'newer' } });
    expect((await c.waitCondition('wants-newer', 'NoMatchingPool')).message).toContain('is invalid');
    expect(await c.ips('first')).toEqual(['192.0.2.64']);
  });
});
