import { describe, expect, it } from '@jest/globals';
import { resolveConfig } from './config.js';
import { gobgpConfig } from './gobgp-config.js';
import { fixture, interopConfig } from './__fixtures__/fixtures.js';

describe('gobgpConfig', () => {
  it('writes the configuration gobgpd 3.10 loaded in the interop test (golden file)', () => {
    expect(gobgpConfig(resolveConfig(interopConfig('gobgp')))).toBe(fixture('gobgpd.toml'));
  });

  it('refuses BFD, which GoBGP does not have', () => {
    const c = resolveConfig({ asn: 64514, routerId: '192.0.2.203', neighbors: [{ address: '192.0.2.11', asn: 65000, bfd: { rxMs: 300, txMs: 300, multiplier: 3 } }] });
    expect(() => gobgpConfig(c)).toThrow(expect.objectContaining({ code: 'BadOptions', message: expect.stringContaining('no BFD') }));
  });

  it('enables graceful restart per family too, and quotes strings as TOML wants', () => {
    const toml = gobgpConfig(resolveConfig({ asn: 64514, routerId: '192.0.2.203', neighbors: [{ address: '192.0.2.11', asn: 65000, gracefulRestart: true, password: 'p@ss', passive: false }] }));
    expect(toml).toContain('  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120\n');
    expect(toml.match(/mp-graceful-restart\.config\]\n {6}enabled = true/g)).toHaveLength(2);
    expect(toml).toContain('    auth-password = "p@ss"\n');
    expect(toml).toContain('    passive-mode = false\n');
  });
});
