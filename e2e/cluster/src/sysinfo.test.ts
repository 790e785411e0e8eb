import { describe, expect, it } from '@jest/globals';
import { cgroupMounts, conflictingRoutes, isShimOf, mountsUnder, overlaps, parseMountinfo, v4Range, v6Range } from './sysinfo.js';

const MOUNTINFO = `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
30 22 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
33 30 0:29 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
40 22 254:0 /tmp/c/nodes/node-1/kubelet /tmp/c/nodes/node-1/kubelet rw,relatime shared:5 - ext4 /dev/vda rw
41 40 0:50 / /tmp/c/nodes/node-1/kubelet/pods/u/volumes/kubernetes.io~projected/kube-api-access rw - tmpfs tmpfs rw
42 22 0:51 / /tmp/c2/with\\040space rw - tmpfs tmpfs rw
`;

describe('mountinfo', () => {
  const entries = parseMountinfo(MOUNTINFO);

  it('finds the cgroup v1 hierarchies and the v2 mount', () => {
    expect(cgroupMounts(entries)).toEqual({ v1: ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuset'], v2: ['/sys/fs/cgroup/unified'] });
  });

  it('lists the mounts under a folder deepest first, and no sibling folder with a common prefix', () => {
    expect(mountsUnder(entries, '/tmp/c')).toEqual(['/tmp/c/nodes/node-1/kubelet/pods/u/volumes/kubernetes.io~projected/kube-api-access', '/tmp/c/nodes/node-1/kubelet']);
  });

  it('decodes octal escapes in mount points', () => {
    expect(mountsUnder(entries, '/tmp/c2')).toEqual(['/tmp/c2/with space']);
  });
});

describe('IPv4 ranges', () => {
  it('turns CIDRs and plain addresses into ranges', () => {
    expect(v4Range('10.244.1.0/24')).toEqual([0x0af40100, 0x0af401ff]);
    expect(v4Range('192.0.2.7')).toEqual([0xc0000207, 0xc0000207]);
    expect(v4Range('10.244.1.9/24')).toEqual([0x0af40100, 0x0af401ff]);
    expect(v4Range('fd00::/64')).toBeUndefined();
    expect(v4Range('300.1.1.1/8')).toBeUndefined();
  });

  it('parses IPv6 CIDRs, compressed or not', () => {
    expect(v6Range('fd00::/64')).toEqual([0xfd00n << 112n, (0xfd00n << 112n) + (1n << 64n) - 1n]);
    expect(v6Range('::1')).toEqual([1n, 1n]);
    expect(v6Range('fd00:10:244:0:0:0:0:0/56')).toEqual(v6Range('fd00:10:244::/56'));
    expect(v6Range('fd00:::1')).toBeUndefined();
    expect(v6Range('1:2:3:4:5:6:7')).toBeUndefined();
    expect(v6Range('10.0.0.0/8')).toBeUndefined();
  });

  it('sees IPv6 overlaps within a family only', () => {
    expect(overlaps('fd00::/64', 'fd00::2')).toBe(true);
    expect(overlaps('fd00::/64', 'fd00:203:0:113::/64')).toBe(false);
    expect(overlaps('fd00:10:244::/56', 'fd00:10:244:3::/64')).toBe(true);
    expect(overlaps('fd00::/64', '10.0.0.0/8')).toBe(false);
  });

  it('sees overlaps in both directions', () => {
    expect(overlaps('10.244.0.0/16', '10.244.3.0/24')).toBe(true);
    expect(overlaps('10.244.3.0/24', '10.244.0.0/16')).toBe(true);
    expect(overlaps('10.96.0.0/16', '10.244.0.0/16')).toBe(false);
    expect(overlaps('0.0.0.0/0', '203.0.113.0/24')).toBe(true);
  });

  it('reports routes of the machine that overlap the cluster networks, ignoring default routes', () => {
    const routes = [
      { dst: 'default', dev: 'eth0', table: 'main' },
      { dst: '192.0.2.0/24', dev: 'eth0', table: 'main' },
      { dst: '10.244.7.0/24', dev: 'other0', table: 'main' },
      { dst: '127.0.0.0/8', dev: 'lo', table: 'local' },
      { dst: '203.0.113.5', dev: 'x', table: 'local' },
    ];
    expect(conflictingRoutes(routes, ['203.0.113.0/24', '10.244.0.0/16', '10.96.0.0/16'])).toEqual([
      '10.244.7.0/24 dev other0 (overlaps 10.244.0.0/16)',
      '203.0.113.5 dev x table local (overlaps 203.0.113.0/24)',
    ]);
    expect(conflictingRoutes(routes, ['192.0.2.0/24'])).toEqual(['192.0.2.0/24 dev eth0 (overlaps 192.0.2.0/24)']);
  });
});

describe('isShimOf', () => {
  const shim = (addr: string): string => ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'k8s.io', '-id', 'abc', '-address', addr, ''].join('\0');

  it('matches a shim by its exact containerd address only', () => {
    expect(isShimOf(shim('/tmp/c/nodes/node-1/containerd.sock'), '/tmp/c/nodes/node-1/containerd.sock')).toBe(true);
    expect(isShimOf(shim('/tmp/c/nodes/node-10/containerd.sock'), '/tmp/c/nodes/node-1/containerd.sock')).toBe(false);
    expect(isShimOf(['/usr/bin/containerd', '-address', '/tmp/c/nodes/node-1/containerd.sock'].join('\0'), '/tmp/c/nodes/node-1/containerd.sock')).toBe(false);
  });
});
