import { describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipvsArpHazard, readArpIgnore } from './ipvs.js';

// This kernel has no IPVS module: the states below are what a node with kube-proxy in IPVS
// mode shows (kube-ipvs0 present), captured as interface names and arp_ignore values.
describe('kube-proxy IPVS without strictARP', () => {
  const devices = ['lo', 'eth0', 'kube-ipvs0', 'cni0'];

  it('finds the hazard: kube-ipvs0 exists and the announcing interface answers ARP for any local address', () => {
    const h = ipvsArpHazard(devices, ['eth0'], new Map([['all', 0], ['eth0', 0]]));
    expect(h).toMatchObject({ reason: 'ipvsWithoutStrictARP', interfaces: ['eth0'] });
    expect(h?.message).toContain('strictARP');
  });

  it('finds none with strictARP (all.arp_ignore=1, what kube-proxy sets), or with arp_ignore set on the interface', () => {
    expect(ipvsArpHazard(devices, ['eth0'], new Map([['all', 1], ['eth0', 0]]))).toBeUndefined();
    expect(ipvsArpHazard(devices, ['eth0'], new Map([['all', 0], ['eth0', 2]]))).toBeUndefined();
  });

  it('finds none without kube-ipvs0 (iptables or nftables mode)', () => {
    expect(ipvsArpHazard(['lo', 'eth0'], ['eth0'], new Map([['all', 0]]))).toBeUndefined();
  });

  it('names only the interfaces that still answer', () => {
    expect(ipvsArpHazard(devices, ['eth1', 'eth0'], new Map([['all', 0], ['eth0', 1]]))?.interfaces).toEqual(['eth1']);
  });

  it('reads arp_ignore from a captured /proc/sys/net/ipv4/conf, skipping what is not there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-conf-'));
    try {
      for (const [n, v] of [['all', '1'], ['eth0', '0']] as const) {
        await mkdir(join(dir, n));
        await writeFile(join(dir, n, 'arp_ignore'), `${v}\n`);
      }
      expect(await readArpIgnore(['eth0', 'gone0'], dir)).toEqual(new Map([['all', 1], ['eth0', 0]]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads this machine\'s real sysctls', async () => {
    const m = await readArpIgnore(['lo']);
    expect(m.get('all')).toEqual(expect.any(Number));
  });
});
