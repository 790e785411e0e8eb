import { describe, expect, it } from '@jest/globals';
import { parseCommand, RouteTable, type ParsedCommand } from './commands.js';
import type { RouteDefaults } from './route.js';

const V4: RouteDefaults = { families: ['ipv4'] };
const DUAL: RouteDefaults = { families: ['ipv4', 'ipv6'], localAddress: '192.0.2.2' };

const errorOf = (r: ParsedCommand): string => {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.command)}`);
  return r.error;
};

describe('parseCommand', () => {
  it('reads announce with every attribute, repeated communities kept in order', () => {
    expect(
      parseCommand('  announce 198.51.100.0/24 nexthop 192.0.2.10 community 65535:0 community 65000:1 large 1:2:3 large 4:5:6 local-pref 300 med 9 ', V4),
    ).toEqual({
      ok: true,
      command: {
        type: 'announce',
        route: {
          prefix: '198.51.100.0/24',
          nextHop: '192.0.2.10',
          communities: ['65535:0', '65000:1'],
          largeCommunities: ['1:2:3', '4:5:6'],
          localPref: 300,
          med: 9,
        },
      },
    });
  });

  it('gives a route without next hop the local address of its family', () => {
    expect(parseCommand('announce 198.51.100.1', DUAL)).toEqual({ ok: true, command: { type: 'announce', route: { prefix: '198.51.100.1', nextHop: '192.0.2.2' } } });
    expect(errorOf(parseCommand('announce 2001:db8::/64', DUAL))).toBe('route 2001:db8::/64: needs a next hop (none given and no --local-address of its family)');
  });

  it('reads withdraw with the prefix in canonical form', () => {
    expect(parseCommand('withdraw 198.51.100.1', V4)).toEqual({ ok: true, command: { type: 'withdraw', prefix: '198.51.100.1/32' } });
    expect(parseCommand('withdraw 2001:0db8:0::/32', V4)).toEqual({ ok: true, command: { type: 'withdraw', prefix: '2001:db8::/32' } });
  });

  it('reads show, help, and quit with and without a shutdown message', () => {
    expect(parseCommand('show', V4)).toEqual({ ok: true, command: { type: 'show' } });
    expect(parseCommand('help', V4)).toEqual({ ok: true, command: { type: 'help' } });
    expect(parseCommand('quit', V4)).toEqual({ ok: true, command: { type: 'quit' } });
    expect(parseCommand('quit  going down  for maintenance ', V4)).toEqual({ ok: true, command: { type: 'quit', message: 'going down  for maintenance' } });
  });

  it('ignores blank lines and # comments', () => {
    for (const line of ['', '   ', '# a note', '\t#x']) expect(parseCommand(line, V4)).toEqual({ ok: true, command: undefined });
  });

  it.each([
    ['frobnicate', 'unknown command "frobnicate" (want announce, withdraw, show, help, quit)'],
    ['ANNOUNCE 10.0.0.0/8', 'unknown command "ANNOUNCE" (want announce, withdraw, show, help, quit)'],
    ['announce', 'announce: want announce PREFIX [nexthop IP] [community a:b]... [large a:b:c]... [local-pref N] [med N]'],
    ['announce 10.0.0.0/8 nexthop', 'announce 10.0.0.0/8: nexthop needs a value'],
    ['announce 10.0.0.0/8 nexthop 192.0.2.1 colour blue', 'unknown route attribute "colour" (want nexthop, community, large, local-pref, med)'],
    ['announce 10.0.0.1/8 nexthop 192.0.2.1', 'invalid prefix "10.0.0.1/8": host bits set past /8'],
    ['announce 10.0.0.0/8 nexthop 192.0.2.1 med -1', 'med: want an integer 0..4294967295, got "-1"'],
    ['announce 2001:db8::/32 nexthop 2001:db8::1', 'route 2001:db8::/32: ipv6 is not negotiated (add --ipv6)'],
    ['withdraw', 'withdraw: want withdraw PREFIX'],
    ['withdraw 10.0.0.0/8 10.1.0.0/16', 'withdraw: want withdraw PREFIX'],
    ['withdraw nonsense', 'invalid prefix "nonsense": bad address'],
    ['show all', 'show takes no arguments'],
    [`quit ${'é'.repeat(128)}`, 'quit: the shutdown message is 256 octets, at most 255 fit (RFC 9003)'],
  ])('rejects %j with a one-line reason', (line, reason) => {
    expect(errorOf(parseCommand(line, V4))).toBe(reason);
  });

  it('accepts a shutdown message of exactly 255 octets', () => {
    expect(parseCommand(`quit ${'x'.repeat(255)}`, V4)).toMatchObject({ ok: true, command: { type: 'quit' } });
  });
});

describe('RouteTable', () => {
  const route = (prefix: string, nextHop = '192.0.2.10') => ({ prefix, nextHop });

  it('keeps one route per prefix, replacing in place, keyed by canonical prefix', () => {
    const t = new RouteTable([route('198.51.100.1'), route('198.51.100.2/32')]);
    expect(t.announce(route('198.51.100.1/32', '192.0.2.11'))).toBe('198.51.100.1/32');
    expect(t.routes).toEqual([route('198.51.100.1/32', '192.0.2.11'), route('198.51.100.2/32')]);
    expect(t.has('198.51.100.2/32')).toBe(true);
  });

  it('withdraws by key and says whether there was a route', () => {
    const t = new RouteTable([route('198.51.100.1/32')]);
    expect(t.withdraw('198.51.100.9/32')).toBe(false);
    expect(t.withdraw('198.51.100.1/32')).toBe(true);
    expect(t.routes).toEqual([]);
  });

  it('copies: a table built from another does not share its routes', () => {
    const a = new RouteTable([route('198.51.100.1/32')]);
    const b = new RouteTable(a.routes);
    b.withdraw('198.51.100.1/32');
    expect(a.routes).toHaveLength(1);
  });
});
