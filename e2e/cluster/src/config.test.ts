import { describe, expect, it } from '@jest/globals';
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig, nodeGuardNft, registryConfig, registryHostsToml } from './config.js';
import { planCluster } from './plan.js';

const plan = planCluster({ nodes: 2, dir: '/tmp/hc-test' });
const node = plan.nodes[1];
if (!node) throw new Error('no node-2');

describe('containerd config', () => {
  const toml = containerdConfig(plan, node);

  it('keeps every path of a node under its own folder', () => {
    expect(toml).toContain('root = "/tmp/hc-test/nodes/node-2/containerd/root"');
    expect(toml).toContain('state = "/tmp/hc-test/nodes/node-2/containerd/state"');
    expect(toml).toContain('address = "/tmp/hc-test/nodes/node-2/containerd.sock"');
    expect(toml).toContain('conf_dir = "/tmp/hc-test/nodes/node-2/cni/net.d"');
    expect(toml).toContain('config_path = "/tmp/hc-test/nodes/node-2/registry-hosts"');
  });

  it('carries the settings this machine needs: no negative oom_score_adj, cgroupfs, the local pause image', () => {
    expect(toml).toMatch(/^\s*restrict_oom_score_adj = true$/m);
    expect(toml).toMatch(/^\s*SystemdCgroup = false$/m);
    expect(toml).toContain(`sandbox_image = "${plan.pauseImage}"`);
    expect(toml).toMatch(/^\s*netns_mounts_under_state_dir = true$/m);
  });

  it('pulls from the cluster registry over plain HTTP', () => {
    const hosts = registryHostsToml(plan);
    expect(hosts.map((h) => h.file)).toEqual([
      '/tmp/hc-test/nodes/node-1/registry-hosts/203.0.113.1:5000/hosts.toml',
      '/tmp/hc-test/nodes/node-2/registry-hosts/203.0.113.1:5000/hosts.toml',
    ]);
    expect(hosts[0]?.text).toBe('server = "http://203.0.113.1:5000"\n\n[host."http://203.0.113.1:5000"]\n  capabilities = ["pull", "resolve"]\n');
  });
});

describe('CNI config', () => {
  type Conf = { plugins: { type: string; ipam?: { ranges: { subnet: string; gateway: string }[][]; routes: { dst: string }[]; dataDir: string } }[] };

  it('is a bridge on the node pod CIDRs (IPv4 first) with its own IPAM data folder, then portmap', () => {
    const c = JSON.parse(cniConfig(plan, node)) as Conf;
    expect(c.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(c.plugins[0]?.ipam?.ranges).toEqual([[{ subnet: '10.244.2.0/24', gateway: '10.244.2.1' }], [{ subnet: 'fd00:10:244:2::/64', gateway: 'fd00:10:244:2::1' }]]);
    expect(c.plugins[0]?.ipam?.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    expect(c.plugins[0]?.ipam?.dataDir).toBe('/tmp/hc-test/nodes/node-2/cni/ipam');
  });

  it('has IPv4 only when IPv6 is off', () => {
    const p4 = planCluster({ nodes: 2, dir: '/tmp/hc-test', ipv6: false });
    const c = JSON.parse(cniConfig(p4, p4.nodes[1] ?? node)) as Conf;
    expect(c.plugins[0]?.ipam?.ranges).toEqual([[{ subnet: '10.244.2.0/24', gateway: '10.244.2.1' }]]);
  });
});

describe('kubelet config', () => {
  const yaml = kubeletConfig(node, '/tmp/hc-test/pki/ca.crt');

  it('runs on cgroup v1 with cgroupfs, under its own cgroup root', () => {
    expect(yaml).toMatch(/^failCgroupV1: false$/m);
    expect(yaml).toMatch(/^cgroupDriver: cgroupfs$/m);
    expect(yaml).toMatch(/^cgroupRoot: \/hc-node-2$/m);
  });

  it('talks to its own containerd and keeps its pod logs in its folder', () => {
    expect(yaml).toContain('containerRuntimeEndpoint: unix:///tmp/hc-test/nodes/node-2/containerd.sock');
    expect(yaml).toContain('podLogsDir: /tmp/hc-test/nodes/node-2/pod-logs');
    expect(yaml).toMatch(/^address: 203\.0\.113\.12$/m);
  });

  it('authenticates the API server by the cluster CA and authorizes through it', () => {
    expect(yaml).toContain('clientCAFile: /tmp/hc-test/pki/ca.crt');
    expect(yaml).toMatch(/anonymous:\n\s+enabled: false/);
    expect(yaml).toMatch(/^ {2}mode: Webhook$/m);
  });
});

describe('kube-proxy config', () => {
  it('uses the chosen mode and leaves machine-wide conntrack sysctls alone', () => {
    expect(kubeProxyConfig(plan, node)).toMatch(/^mode: nftables$/m);
    const ipt = kubeProxyConfig(planCluster({ nodes: 2, dir: '/tmp/hc-test', proxyMode: 'iptables' }), node);
    expect(ipt).toMatch(/^mode: iptables$/m);
    expect(ipt).toMatch(/^ {2}maxPerCore: 0$/m);
    expect(ipt).toContain('hostnameOverride: node-2');
    expect(ipt).toContain('clusterCIDR: 10.244.0.0/16,fd00:10:244::/56');
    expect(kubeProxyConfig(planCluster({ ipv6: false }), node)).toContain('clusterCIDR: 10.244.0.0/16\n');
  });
});

describe('node guard', () => {
  it('drops what a node routes via the bridge host side to any other address, in both families', () => {
    const nft = nodeGuardNft(plan);
    expect(nft).toContain('oifname "eth0" rt ip nexthop 203.0.113.1 ip daddr != 203.0.113.1 counter drop');
    expect(nft).toContain('oifname "eth0" rt ip6 nexthop fd00:203:0:113::1 ip6 daddr != fd00:203:0:113::1 counter drop');
    expect(nodeGuardNft(planCluster({ ipv6: false }))).not.toContain('ip6');
  });
});

describe('registry config', () => {
  it('listens on the bridge address only and stores under the given folder', () => {
    const y = registryConfig(plan, '/tmp/hc-test/registry');
    expect(y).toMatch(/^ {2}addr: 203\.0\.113\.1:5000$/m);
    expect(y).toMatch(/^ {4}rootdirectory: \/tmp\/hc-test\/registry$/m);
  });
});
