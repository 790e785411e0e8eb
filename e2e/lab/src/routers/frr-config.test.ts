import { describe, expect, it } from '@jest/globals';
import { resolveConfig } from './config.js';
import { bfdProfileName, frrConfigs } from './frr-config.js';
import { fixture, interopConfig } from './__fixtures__/fixtures.js';

describe('frrConfigs', () => {
  it('writes the configuration FRR 8.4 loaded in the interop test (golden files)', () => {
    const files = frrConfigs(resolveConfig(interopConfig('frr')), 'herald-frr');
    expect(files['bgpd.conf']).toBe(fixture('frr-bgpd.conf'));
    expect(files['bfdd.conf']).toBe(fixture('frr-bfdd.conf'));
    expect(files['zebra.conf']).toBe(fixture('frr-zebra.conf'));
  });

  it('defines the route-maps before router bgp, so they apply at once rather than after the 5 s route-map delay', () => {
    const bgpd = frrConfigs(resolveConfig(interopConfig('frr')), 'h')['bgpd.conf'];
    expect(bgpd.indexOf('route-map herald-import permit 10')).toBeLessThan(bgpd.indexOf('router bgp'));
    expect(bgpd.indexOf('route-map herald-export deny 10')).toBeLessThan(bgpd.indexOf('router bgp'));
  });

  it('gives every neighbour import and export route-maps in each family it activates (FRR requires eBGP policy)', () => {
    const bgpd = frrConfigs(resolveConfig({ asn: 64512, routerId: '192.0.2.201', families: ['ipv4', 'ipv6'], neighbors: [{ address: '192.0.2.11', asn: 65000, families: ['ipv4'] }] }), 'h')['bgpd.conf'];
    const v4 = bgpd.slice(bgpd.indexOf('address-family ipv4 unicast'), bgpd.indexOf('address-family ipv6 unicast'));
    const v6 = bgpd.slice(bgpd.indexOf('address-family ipv6 unicast'));
    expect(v4).toContain('neighbor 192.0.2.11 route-map herald-import in');
    expect(v4).toContain('neighbor 192.0.2.11 route-map herald-export out');
    expect(v6).not.toContain('192.0.2.11');
    expect(bgpd).toContain(' bgp bestpath as-path multipath-relax');
    expect(v4).toContain('maximum-paths 16');
  });

  it('runs no bfdd without BFD, and shares one profile between neighbours with the same timers', () => {
    expect(frrConfigs(resolveConfig({ asn: 64512, routerId: '192.0.2.201', neighbors: [{ address: '192.0.2.11', asn: 65000 }] }), 'h')['bfdd.conf']).toBeUndefined();
    const bfd = { rxMs: 100, txMs: 200, multiplier: 4 };
    const files = frrConfigs(
      resolveConfig({ asn: 64512, routerId: '192.0.2.201', neighbors: [{ address: '192.0.2.11', asn: 65000, bfd }, { address: '192.0.2.12', asn: 65000, bfd }] }),
      'h',
    );
    expect(bfdProfileName(bfd)).toBe('herald-100-200-4');
    expect(files['bfdd.conf']?.match(/ profile /g)).toHaveLength(1);
    expect(files['bfdd.conf']).toContain('  receive-interval 100\n  transmit-interval 200\n  detect-multiplier 4\n');
    expect(files['bgpd.conf']).toContain(' neighbor 192.0.2.12 bfd profile herald-100-200-4\n');
  });

  it('says ebgp-multihop only for eBGP, per-neighbour timers only where they differ, and dials when not passive', () => {
    const bgpd = frrConfigs(
      resolveConfig({
        asn: 64512,
        routerId: '192.0.2.201',
        holdTimeSec: 9,
        neighbors: [
          { address: '192.0.2.11', asn: 64512, multihop: true },
          { address: '192.0.2.12', asn: 65000, multihop: true, holdTimeSec: 30, passive: false },
        ],
      }),
      'h',
    )['bgpd.conf'];
    expect(bgpd).toContain(' timers bgp 3 9\n');
    expect(bgpd).not.toContain('192.0.2.11 ebgp-multihop');
    expect(bgpd).toContain(' neighbor 192.0.2.12 ebgp-multihop 255\n');
    expect(bgpd).toContain(' neighbor 192.0.2.12 timers 10 30\n');
    expect(bgpd).toContain(' neighbor 192.0.2.11 passive\n');
    expect(bgpd).not.toContain(' neighbor 192.0.2.12 passive');
  });
});
