import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHeraldError } from '@herald/shared/core';
import { chooseInterfaces, isVirtualInterface, readInterfaces, type InterfaceState } from './interfaces.js';

let nextIndex = 1;
function iface(name: string, o: Partial<Omit<InterfaceState, 'name'>> = {}): InterfaceState {
  return { name, index: nextIndex++, up: true, broadcast: true, loopback: false, operState: 'up', type: 1, mac: '02:00:00:00:00:01', ...o };
}

const lo = iface('lo', { loopback: true, broadcast: false, operState: 'unknown', type: 772, mac: '00:00:00:00:00:00' });

describe('default interface choice', () => {
  it('uses up, broadcast-capable Ethernet interfaces and says why it skips the others', () => {
    const all = [
      iface('eth1'),
      lo,
      iface('eth0'),
      iface('bond0', { operState: 'unknown' }),
      iface('eth2', { up: false, operState: 'down' }),
      iface('eth3', { operState: 'lowerlayerdown' }),
      iface('ib0', { type: 32 }),
      iface('ptp0', { broadcast: false }),
    ];
    expect(chooseInterfaces(all, 'default')).toEqual({
      use: ['bond0', 'eth0', 'eth1'],
      skipped: [
        { name: 'eth2', reason: 'down' },
        { name: 'eth3', reason: 'noCarrier' },
        { name: 'ib0', reason: 'notEthernet' },
        { name: 'lo', reason: 'loopback' },
        { name: 'ptp0', reason: 'noBroadcast' },
      ],
    });
  });

  it('skips the virtual devices of CNIs, container runtimes and kube-proxy', () => {
    const virtual = ['cali1a2b3c', 'docker0', 'kube-ipvs0', 'lxcbr0', 'cni0', 'flannel.1', 'vxlan.calico', 'cilium_host', 'veth12ab', 'tunl0', 'kube-bridge', 'nodelocaldns', 'weave', 'genev_sys_6081', 'wg0'];
    const choice = chooseInterfaces([iface('eth0'), iface('enp3s0'), iface('br0'), ...virtual.map((n) => iface(n))], 'default');
    expect(choice.use).toEqual(['br0', 'enp3s0', 'eth0']);
    expect(choice.skipped).toEqual([...virtual].sort().map((name) => ({ name, reason: 'virtual' })));
    for (const n of virtual) expect(isVirtualInterface(n)).toBe(true);
    expect(isVirtualInterface('eth0')).toBe(false);
  });
});

describe('listed interfaces', () => {
  it('uses only the listed interfaces, even with a virtual-looking name', () => {
    const choice = chooseInterfaces([iface('eth0'), iface('eth1'), iface('vxlan100'), lo], ['vxlan100', 'eth1']);
    expect(choice).toEqual({
      use: ['eth1', 'vxlan100'],
      skipped: [
        { name: 'eth0', reason: 'notListed' },
        { name: 'lo', reason: 'notListed' },
      ],
    });
  });

  it('still requires a listed interface to exist and be up', () => {
    const choice = chooseInterfaces([iface('eth0', { up: false, operState: 'down' }), iface('eth1', { operState: 'down' }), lo], ['eth0', 'eth1', 'eth9', 'lo']);
    expect(choice).toEqual({
      use: [],
      skipped: [
        { name: 'eth0', reason: 'down' },
        { name: 'eth1', reason: 'noCarrier' },
        { name: 'eth9', reason: 'notFound' },
        { name: 'lo', reason: 'loopback' },
      ],
    });
  });

  it('gives the same answer whatever order interfaces are listed in', () => {
    const all = [iface('eth0'), iface('eth1'), iface('docker0'), iface('eth2', { up: false })];
    expect(chooseInterfaces([...all].reverse(), ['eth2', 'eth0'])).toEqual(chooseInterfaces(all, ['eth0', 'eth2']));
    expect(chooseInterfaces([...all].reverse(), 'default')).toEqual(chooseInterfaces(all, 'default'));
  });
});

describe('reading sysfs', () => {
  let dir: string;

  async function fakeInterface(name: string, files: Record<string, string>): Promise<void> {
    await mkdir(join(dir, name));
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, name, f), `${text}\n`);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-sysfs-'));
    await fakeInterface('lo', { flags: '0x9', operstate: 'unknown', type: '772', address: '00:00:00:00:00:00', ifindex: '1' });
    await fakeInterface('eth0', { flags: '0x1003', operstate: 'up', type: '1', address: '02:FC:00:00:00:01', ifindex: '2' });
    await fakeInterface('eth1', { flags: '0x1002', operstate: 'down', type: '1', address: '02:fc:00:00:00:02', ifindex: '3' });
    await fakeInterface('wg0', { flags: '0x91', operstate: 'unknown', type: '65534', address: '', ifindex: '4' });
    // Half-gone interface (a pod's veth removed while we read) and the bonding driver's control file.
    await fakeInterface('veth0', { flags: '0x1003' });
    await writeFile(join(dir, 'bonding_masters'), '\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads flags, operstate, type, address and ifindex, skipping entries that are not (or no longer) interfaces', async () => {
    expect(await readInterfaces(dir)).toEqual([
      { name: 'eth0', index: 2, up: true, broadcast: true, loopback: false, operState: 'up', type: 1, mac: '02:fc:00:00:00:01' },
      { name: 'eth1', index: 3, up: false, broadcast: true, loopback: false, operState: 'down', type: 1, mac: '02:fc:00:00:00:02' },
      { name: 'lo', index: 1, up: true, broadcast: false, loopback: true, operState: 'unknown', type: 772, mac: '00:00:00:00:00:00' },
      { name: 'wg0', index: 4, up: true, broadcast: false, loopback: false, operState: 'unknown', type: 65534, mac: '' },
    ]);
  });

  it('chooses from what it read', async () => {
    const choice = chooseInterfaces(await readInterfaces(dir), 'default');
    expect(choice.use).toEqual(['eth0']);
  });

  it('fails with a HeraldError naming the file when a value is malformed', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'herald-sysfs-bad-'));
    try {
      await mkdir(join(bad, 'eth0'));
      for (const [f, text] of Object.entries({ flags: 'garbage', operstate: 'up', type: '1', address: '', ifindex: '2' })) await writeFile(join(bad, 'eth0', f), text);
      const err = await readInterfaces(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isHeraldError(err, 'Internal')).toBe(true);
      expect((err as Error).message).toContain(join(bad, 'eth0', 'flags'));
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('fails with a HeraldError when the directory does not exist', async () => {
    await expect(readInterfaces(join(dir, 'missing'))).rejects.toThrow(/list interfaces in/);
  });

  it('reads the real /sys/class/net, where lo is a loopback', async () => {
    const all = await readInterfaces();
    const real = all.find((i) => i.name === 'lo');
    expect(real).toMatchObject({ name: 'lo', loopback: true, up: true, type: 772 });
    expect(chooseInterfaces(all, 'default').skipped).toContainEqual({ name: 'lo', reason: 'loopback' });
  });
});
