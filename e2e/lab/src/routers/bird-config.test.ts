import { describe, expect, it } from '@jest/globals';
import { birdConfig, birdProtocolName } from './bird-config.js';
import { resolveConfig } from './config.js';
import { fixture, interopConfig } from './__fixtures__/fixtures.js';

describe('birdConfig', () => {
  it('writes the configuration BIRD 2.0.12 loaded in the interop test (golden file)', () => {
    expect(birdConfig(resolveConfig(interopConfig('bird')))).toBe(fixture('bird.conf'));
  });

  it('names protocols after the neighbour address in the characters BIRD allows', () => {
    expect(birdProtocolName('192.0.2.11')).toBe('herald_192_0_2_11');
    expect(birdProtocolName('2001:db8::11')).toBe('herald_2001_db8__11');
  });

  it('merges equal paths into multipath kernel routes and exports only BGP routes', () => {
    const conf = birdConfig(resolveConfig({ asn: 64513, routerId: '192.0.2.202', neighbors: [] }));
    expect(conf.match(/merge paths on;/g)).toHaveLength(2);
    expect(conf).toContain('ipv4 { import none; export where source = RTS_BGP; };');
    expect(conf).not.toContain('protocol bfd');
  });

  it('sets per-session BFD timers, graceful restart, password, and dials when not passive', () => {
    const conf = birdConfig(
      resolveConfig({
        asn: 64513,
        routerId: '192.0.2.202',
        families: ['ipv6'],
        neighbors: [{ address: '2001:db8::11', asn: 65000, bfd: { rxMs: 50, txMs: 60, multiplier: 5 }, gracefulRestart: true, password: 'pw', passive: false, holdTimeSec: 6 }],
      }),
    );
    expect(conf).toContain('protocol bfd {');
    expect(conf).toContain('  bfd { min rx interval 50 ms; min tx interval 60 ms; multiplier 5; };\n');
    expect(conf).toContain('  graceful restart on;\n  password "pw";\n');
    expect(conf).toContain('  passive off;\n  hold time 6;\n');
    expect(conf).toContain('  ipv6 { import all; export none; gateway direct; };\n}');
    expect(conf.slice(conf.indexOf('protocol bgp'))).not.toContain('ipv4 {');
  });
});
