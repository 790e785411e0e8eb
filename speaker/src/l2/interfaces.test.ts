import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
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

  it('answers from one MAC per segment: never on a bridge port, a bond slave, a NOARP link or a macvlan\'s lower link', () => {
    const all = [
      iface('br0', { devType: 'bridge', mac: '02:00:00:00:0b:00' }),
      iface('eth0', { master: 'br0' }),
      iface('bond0', { devType: 'bond', operState: 'unknown' }),
      iface('eth1', { master: 'bond0' }),
      iface('eth2', { master: 'bond0' }),
      iface('eth3', { uppers: ['mv0'] }),
      iface('mv0', { mac: '02:00:00:00:0c:00' }),
      iface('eth4', { uppers: ['eth4.100'] }),
      iface('eth4.100', { devType: 'vlan' }),
      iface('lan9', { noArp: true }),
      lo,
    ];
    expect(chooseInterfaces(all, 'default')).toEqual({
      use: ['bond0', 'br0', 'eth4', 'eth4.100', 'mv0'],
      skipped: [
        { name: 'eth0', reason: 'enslaved' },
        { name: 'eth1', reason: 'enslaved' },
        { name: 'eth2', reason: 'enslaved' },
        { name: 'eth3', reason: 'macvlanLower' },
        { name: 'lan9', reason: 'noArp' },
        { name: 'lo', reason: 'loopback' },
      ],
    });
    // An operator's explicit list still wins.
    expect(chooseInterfaces(all, ['eth0', 'eth3', 'lan9']).use).toEqual(['eth0', 'eth3', 'lan9']);
  });

  it('takes the operator\'s own list of excluded name prefixes', () => {
    const all = [iface('eth0'), iface('tap0'), iface('vnet3'), iface('k6t-eth0'), iface('virbr0'), iface('macvtap1'), iface('lab0')];
    expect(chooseInterfaces(all, 'default').use).toEqual(['eth0', 'lab0']);
    expect(chooseInterfaces(all, 'default', { excludedPrefixes: ['lab'] }).use).toEqual(['eth0', 'k6t-eth0', 'macvtap1', 'tap0', 'virbr0', 'vnet3']);
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
      { name: 'eth0', index: 2, up: true, broadcast: true, loopback: false, operState: 'up', type: 1, mac: '02:fc:00:00:00:01', noArp: false, uppers: [] },
      { name: 'eth1', index: 3, up: false, broadcast: true, loopback: false, operState: 'down', type: 1, mac: '02:fc:00:00:00:02', noArp: false, uppers: [] },
      { name: 'lo', index: 1, up: true, broadcast: false, loopback: true, operState: 'unknown', type: 772, mac: '00:00:00:00:00:00', noArp: false, uppers: [] },
      { name: 'wg0', index: 4, up: true, broadcast: false, loopback: false, operState: 'unknown', type: 65534, mac: '', noArp: true, uppers: [] },
    ]);
  });

  it('reads bonding, bridge and macvlan links from captured sysfs state (this kernel has no bonding module)', async () => {
    // Captured from a host with eth0/eth1 enslaved to bond0 and a macvlan on eth2: `master`
    // is a symlink to the master's directory, `upper_*` links name the stacked devices,
    // and `uevent` carries DEVTYPE (none for a macvlan).
    const cap = await mkdtemp(join(tmpdir(), 'herald-sysfs-bond-'));
    try {
      const mk = async (name: string, files: Record<string, string>, links: Record<string, string> = {}): Promise<void> => {
        await mkdir(join(cap, name));
        for (const [f, text] of Object.entries(files)) await writeFile(join(cap, name, f), `${text}\n`);
        for (const [l, target] of Object.entries(links)) await symlink(target, join(cap, name, l));
      };
      const eth = { flags: '0x1803', operstate: 'up', type: '1', address: '02:fc:00:00:01:01', uevent: 'INTERFACE=x\nIFINDEX=2' };
      await mk('bond0', { ...eth, flags: '0x1403', ifindex: '5', uevent: 'DEVTYPE=bond\nINTERFACE=bond0\nIFINDEX=5' }, { lower_eth0: '../eth0', lower_eth1: '../eth1' });
      await mk('eth0', { ...eth, ifindex: '2' }, { master: '../bond0', upper_bond0: '../bond0' });
      await mk('eth1', { ...eth, ifindex: '3' }, { master: '../bond0', upper_bond0: '../bond0' });
      await mk('eth2', { ...eth, flags: '0x1003', ifindex: '4' }, { upper_mv0: '../mv0' });
      await mk('mv0', { ...eth, flags: '0x1003', address: '02:fc:00:00:02:02', ifindex: '6', uevent: 'INTERFACE=mv0\nIFINDEX=6' }, { lower_eth2: '../eth2' });
      const all = await readInterfaces(cap);
      expect(all.find((i) => i.name === 'eth0')).toMatchObject({ master: 'bond0', uppers: ['bond0'] });
      expect(all.find((i) => i.name === 'bond0')).toMatchObject({ devType: 'bond', master: undefined });
      expect(chooseInterfaces(all, 'default')).toEqual({
        use: ['bond0', 'mv0'],
        skipped: [
          { name: 'eth0', reason: 'enslaved' },
          { name: 'eth1', reason: 'enslaved' },
          { name: 'eth2', reason: 'macvlanLower' },
        ],
      });
    } finally {
      await rm(cap, { recursive: true, force: true });
    }
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
