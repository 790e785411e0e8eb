import { describe, expect, it } from '@jest/globals';
import { canonicalIp, deleteScript, dnatComment, dnatScript, isVipComment, ruleHandles } from './nat.js';

describe('canonicalIp', () => {
  it('accepts IPv4 and IPv6 and writes IPv6 the RFC 5952 way', () => {
    expect(canonicalIp('192.0.2.100')).toEqual({ ip: '192.0.2.100', family: 4 });
    expect(canonicalIp('2001:DB8:0:0::0100')).toEqual({ ip: '2001:db8::100', family: 6 });
  });

  it.each(['', '192.0.2', '192.0.2.300', 'fe80::1%eth0', 'example.com', '2001:db8::/64'])('refuses %j', (text) => {
    expect(canonicalIp(text)).toBeUndefined();
  });
});

describe('dnatScript', () => {
  it('creates table and chain if missing, drops the replaced rules, and adds an IPv4 rule to the node address', () => {
    expect(dnatScript({ vip: '192.0.2.100', port: 80, to: '192.0.2.11', toPort: 8080 }, [4, 7]).split('\n')).toEqual([
      'add table inet herald_lab',
      'add chain inet herald_lab prerouting { type nat hook prerouting priority dstnat; policy accept; }',
      'delete rule inet herald_lab prerouting handle 4',
      'delete rule inet herald_lab prerouting handle 7',
      'add rule inet herald_lab prerouting ip daddr 192.0.2.100 tcp dport 80 counter dnat ip to 192.0.2.11:8080 comment "herald-lab dnat 192.0.2.100 port 80"',
      '',
    ]);
  });

  it('brackets an IPv6 target and matches ip6 daddr', () => {
    expect(dnatScript({ vip: '2001:db8::100', port: 443, to: '2001:db8::12', toPort: 8443 }, [])).toContain(
      'add rule inet herald_lab prerouting ip6 daddr 2001:db8::100 tcp dport 443 counter dnat ip6 to [2001:db8::12]:8443 comment "herald-lab dnat 2001:db8::100 port 443"\n',
    );
  });

  it('deletes by handle in one transaction', () => {
    expect(deleteScript([3, 5])).toBe('delete rule inet herald_lab prerouting handle 3\ndelete rule inet herald_lab prerouting handle 5\n');
  });
});

describe('rule comments and handles', () => {
  // Trimmed `nft -j list chain inet herald_lab prerouting` output (nftables 1.0.6).
  const listing = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { chain: { family: 'inet', table: 'herald_lab', name: 'prerouting', handle: 1, type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } },
      { rule: { family: 'inet', table: 'herald_lab', chain: 'prerouting', handle: 2, comment: dnatComment('192.0.2.100', 80), expr: [] } },
      { rule: { family: 'inet', table: 'herald_lab', chain: 'prerouting', handle: 3, comment: dnatComment('192.0.2.100', 443), expr: [] } },
      { rule: { family: 'inet', table: 'herald_lab', chain: 'prerouting', handle: 4, comment: dnatComment('192.0.2.1000', 80), expr: [] } },
      { rule: { family: 'inet', table: 'herald_lab', chain: 'prerouting', handle: 5, expr: [] } },
    ],
  });

  it('finds one VIP port, or all ports of a VIP and not a VIP it prefixes', () => {
    expect(ruleHandles(listing, (c) => c === dnatComment('192.0.2.100', 80))).toEqual([2]);
    expect(ruleHandles(listing, (c) => isVipComment(c, '192.0.2.100'))).toEqual([2, 3]);
  });

  it('throws on output that is not nft JSON', () => {
    expect(() => ruleHandles('not json', () => true)).toThrow();
    expect(() => ruleHandles('{"x":1}', () => true)).toThrow();
  });
});
