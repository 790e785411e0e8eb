import { describe, expect, it } from '@jest/globals';
import { parseCommandLine } from './args.js';

const REQUIRED = ['--peer-address', '192.0.2.1', '--peer-asn', '65001', '--local-asn', '4200000001', '--router-id', '10.0.0.1'];
const peer = (...extra: string[]): string[] => ['peer', ...REQUIRED, ...extra];

const errorOf = (argv: string[]): string => {
  const r = parseCommandLine(argv);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(argv)}`);
  return r.error;
};

describe('parseCommandLine', () => {
  it('fills the defaults: port 179, hold time 90, retry 1 s, IPv4 only, no routes', () => {
    expect(parseCommandLine(peer())).toEqual({
      ok: true,
      config: {
        command: 'peer',
        peerAddress: '192.0.2.1',
        peerAsn: 65_001,
        localAsn: 4_200_000_001,
        routerId: '10.0.0.1',
        port: 179,
        holdTimeSec: 90,
        connectRetryMs: 1_000,
        families: ['ipv4'],
        announce: [],
      },
    });
  });

  it('reads every flag, --flag=value included, and repeated --announce in order', () => {
    const r = parseCommandLine(
      peer(
        '--port=1179',
        '--local-address',
        '192.0.2.2',
        '--hold-time',
        '0',
        '--connect-retry-ms',
        '50',
        '--ipv6',
        '--announce',
        '198.51.100.1/32,nexthop=192.0.2.10,community=65535:0,community=65000:1,large=1:2:3,local-pref=200,med=7',
        '--announce',
        '198.51.100.2',
        '--announce',
        '2001:db8::/64,nexthop=2001:db8::1',
      ),
    );
    expect(r).toMatchObject({
      ok: true,
      config: {
        port: 1179,
        localAddress: '192.0.2.2',
        holdTimeSec: 0,
        connectRetryMs: 50,
        families: ['ipv4', 'ipv6'],
        announce: [
          {
            prefix: '198.51.100.1/32',
            nextHop: '192.0.2.10',
            communities: ['65535:0', '65000:1'],
            largeCommunities: ['1:2:3'],
            localPref: 200,
            med: 7,
          },
          // No next hop given: the local address of the same family.
          { prefix: '198.51.100.2', nextHop: '192.0.2.2' },
          { prefix: '2001:db8::/64', nextHop: '2001:db8::1' },
        ],
      },
    });
  });

  it('accepts an IPv6 peer with an IPv6 local address', () => {
    expect(parseCommandLine(['peer', ...REQUIRED.slice(2), '--peer-address', '2001:db8::1', '--local-address', '2001:db8::2'])).toMatchObject({
      ok: true,
      config: { peerAddress: '2001:db8::1', localAddress: '2001:db8::2' },
    });
  });

  it('asks for help on --help, -h and help', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['peer', '--help']]) expect(parseCommandLine(argv)).toEqual({ ok: true, help: true });
  });

  it.each([
    ['no command', [], 'missing command (want: peer)'],
    ['an unknown command', ['announce'], 'unknown command "announce" (want: peer)'],
    ['a missing required flag', ['peer', '--peer-address', '192.0.2.1'], '--peer-asn is required'],
    ['an unknown flag', peer('--md5', 'x'), "Unknown option '--md5'"],
    ['a flag without its value', ['peer', ...REQUIRED, '--port'], "Option '--port <value>' argument missing"],
    ['a positional argument', peer('extra'), expect.stringMatching(/Unexpected argument 'extra'/)],
    ['a bad peer address', ['peer', ...REQUIRED.slice(2), '--peer-address', '192.0.2.256'], '--peer-address: want an IPv4 or IPv6 address, got "192.0.2.256"'],
    ['a local address of the other family', peer('--local-address', '2001:db8::1'), '--local-address 2001:db8::1 is not of the family of --peer-address 192.0.2.1'],
    ['AS 0', peer('--peer-asn', '0'), '--peer-asn: want an integer 1..4294967295, got "0"'],
    ['an AS above 32 bits', peer('--local-asn', '4294967296'), '--local-asn: want an integer 1..4294967295, got "4294967296"'],
    ['a negative-looking AS', peer('--local-asn=-1'), '--local-asn: want an integer 1..4294967295, got "-1"'],
    ['an AS with a leading zero', peer('--local-asn', '065000'), '--local-asn: want an integer 1..4294967295, got "065000"'],
    ['router id 0.0.0.0', peer('--router-id', '0.0.0.0'), '--router-id: want a non-zero dotted quad, got "0.0.0.0"'],
    ['an IPv6 router id', peer('--router-id', '2001:db8::1'), '--router-id: want a non-zero dotted quad, got "2001:db8::1"'],
    ['port 0', peer('--port', '0'), '--port: want an integer 1..65535, got "0"'],
    ['port 65536', peer('--port', '65536'), '--port: want an integer 1..65535, got "65536"'],
    ['hold time 1', peer('--hold-time', '1'), '--hold-time: must be 0 or at least 3 (RFC 4271 4.2), got 1'],
    ['hold time 65536', peer('--hold-time', '65536'), '--hold-time: want an integer 0..65535, got "65536"'],
    ['retry 0 ms', peer('--connect-retry-ms', '0'), '--connect-retry-ms: want an integer 10..3600000, got "0"'],
    ['a route without next hop or local address', peer('--announce', '198.51.100.1/32'), 'route 198.51.100.1/32: needs a next hop (none given and no --local-address of its family)'],
    ['an IPv6 route without --ipv6', peer('--announce', '2001:db8::/64,nexthop=2001:db8::1'), 'route 2001:db8::/64: ipv6 is not negotiated (add --ipv6)'],
    ['a route with host bits set', peer('--announce', '198.51.100.1/24,nexthop=192.0.2.10'), 'invalid prefix "198.51.100.1/24": host bits set past /24'],
    ['a next hop of the other family', peer('--ipv6', '--announce', '198.51.100.1/32,nexthop=2001:db8::1'), expect.stringMatching(/next hop 2001:db8::1 is not ipv4/)],
    ['a bad community', peer('--announce', '198.51.100.1/32,nexthop=192.0.2.10,community=65536:1'), expect.stringMatching(/invalid community "65536:1"/)],
    ['a bad large community', peer('--announce', '198.51.100.1/32,nexthop=192.0.2.10,large=1:2'), expect.stringMatching(/invalid large community "1:2"/)],
    ['a bad local-pref', peer('--announce', '198.51.100.1/32,nexthop=192.0.2.10,local-pref=x'), 'local-pref: want an integer 0..4294967295, got "x"'],
    ['an unknown route attribute', peer('--announce', '198.51.100.1/32,nexthop=192.0.2.10,color=red'), expect.stringMatching(/unknown route attribute "color"/)],
    ['a pair without =', peer('--announce', '198.51.100.1/32,nexthop'), '--announce 198.51.100.1/32,nexthop: want key=value, got "nexthop"'],
    ['an empty --announce', peer('--announce', ''), '--announce: want PREFIX[,key=value]..., got ""'],
  ])('rejects %s with a one-line reason', (_what, argv, reason) => {
    const error = errorOf(argv);
    expect(error).toEqual(reason);
    expect(error).not.toContain('\n');
  });
});
