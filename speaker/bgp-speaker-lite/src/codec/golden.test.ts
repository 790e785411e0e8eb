// Golden bytes for every message type, written out by hand from the RFC layouts (each comment
// names the field), then checked against both the encoder and the decoder.
import { describe, expect, it } from '@jest/globals';
import {
  CeaseSubcode,
  ceaseNotification,
  decodeMessage,
  encodeMessage,
  endOfRib,
  isEndOfRib,
  parsePrefix,
  parseCommunity,
  WellKnownCommunity,
  type BgpMessage,
  type CodecContext,
  type OpenMessage,
  type UpdateMessage,
} from './index.js';

/** Hex with spaces, comments (# to end of line) and line breaks allowed. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

const MARKER = 'ffffffffffffffffffffffffffffffff';
const ctx4: CodecContext = { fourOctetAs: true, extendedMessages: false };

function expectGolden(message: BgpMessage, wire: Uint8Array, ctx: CodecContext = ctx4): void {
  expect(Buffer.from(encodeMessage(message, ctx)).toString('hex')).toBe(Buffer.from(wire).toString('hex'));
  const decoded = decodeMessage(wire, ctx);
  expect(decoded).toEqual({ ok: true, outcome: 'ok', message });
}

describe('golden OPEN', () => {
  it('encodes and decodes AS 64512, hold 90, id 192.0.2.1 with MP IPv4+IPv6, route refresh, extended message, GR and 4-octet AS', () => {
    const wire = hex(`
      ${MARKER}
      0041 01            # length 65, type OPEN (RFC 4271 §4.1)
      04                 # version 4
      fc00               # My AS 64512
      005a               # hold time 90
      c0000201           # BGP Identifier 192.0.2.1
      24                 # Opt Parm Len 36
      02 22              # parameter type 2 (Capabilities, RFC 5492), length 34
        01 04 0001 00 01 # MP (RFC 4760 §8): AFI 1, reserved, SAFI 1
        01 04 0002 00 01 # MP: AFI 2, reserved, SAFI 1
        02 00            # Route Refresh (RFC 2918)
        06 00            # Extended Message (RFC 8654)
        40 0a            # Graceful Restart (RFC 4724), length 10
          4078           #   flags N=1 R=0, restart time 120
          0001 01 80     #   IPv4 unicast, F=1
          0002 01 00     #   IPv6 unicast, F=0
        41 04 0000fc00   # 4-octet AS (RFC 6793): 64512
    `);
    const open: OpenMessage = {
      type: 'open',
      asn: 64512,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: {
        multiprotocol: [
          { afi: 1, safi: 1 },
          { afi: 2, safi: 1 },
        ],
        routeRefresh: true,
        extendedMessage: true,
        fourOctetAs: true,
        gracefulRestart: {
          restartState: false,
          notification: true,
          restartTime: 120,
          families: [
            { afi: 1, safi: 1, forwardingState: true },
            { afi: 2, safi: 1, forwardingState: false },
          ],
        },
        unknown: [],
      },
    };
    expect(wire.length).toBe(65);
    expectGolden(open, wire);
  });

  it('puts AS_TRANS in My AS for AS 4200000001 and the real AS in the 4-octet AS capability', () => {
    const wire = hex(`
      ${MARKER} 0025 01
      04 5ba0            # version 4, My AS 23456 (AS_TRANS, RFC 6793 §9)
      005a c0000201      # hold time 90, BGP Identifier 192.0.2.1
      08 02 06           # Opt Parm Len 8; Capabilities, length 6
        41 04 fa56ea01   # 4-octet AS 4200000001
    `);
    const open: OpenMessage = {
      type: 'open',
      asn: 4200000001,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: { multiprotocol: [], routeRefresh: false, extendedMessage: false, fourOctetAs: true, unknown: [] },
    };
    expect(wire.length).toBe(37);
    expectGolden(open, wire);
  });
});

describe('golden UPDATE', () => {
  const update: UpdateMessage = {
    type: 'update',
    withdrawn: [],
    attributes: {
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [65001] }],
      nextHop: '192.0.2.11',
      med: 100,
      localPref: 200,
      communities: [WellKnownCommunity.GRACEFUL_SHUTDOWN],
      largeCommunities: [[64512, 1, 2]],
    },
    nlri: [parsePrefix('198.51.100.1/32'), parsePrefix('203.0.113.0/24')],
  };

  it('encodes and decodes IPv4 routes with ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES and LARGE_COMMUNITY', () => {
    const wire = hex(`
      ${MARKER} 0058 02  # length 88, type UPDATE
      0000               # Withdrawn Routes Length 0
      0038               # Total Path Attribute Length 56
      40 01 01 00        # ORIGIN (well-known): IGP
      40 02 06 02 01 0000fde9         # AS_PATH: AS_SEQUENCE of 1, AS 65001 (4-octet)
      40 03 04 c000020b  # NEXT_HOP 192.0.2.11
      80 04 04 00000064  # MULTI_EXIT_DISC (optional non-transitive) 100
      40 05 04 000000c8  # LOCAL_PREF 200
      c0 08 04 ffff0000  # COMMUNITIES (optional transitive): 65535:0 GRACEFUL_SHUTDOWN (RFC 8326)
      c0 20 0c 0000fc00 00000001 00000002  # LARGE_COMMUNITY 64512:1:2 (RFC 8092)
      20 c6336401        # NLRI 198.51.100.1/32
      18 cb0071          # NLRI 203.0.113.0/24
    `);
    expect(wire.length).toBe(88);
    expect(update.attributes.communities).toEqual([parseCommunity('65535:0')]);
    expectGolden(update, wire);
  });

  it('writes 2-octet AS numbers in AS_PATH towards a peer without 4-octet AS support', () => {
    const wire = hex(`
      ${MARKER} 0056 02 0000 0036
      40 01 01 00
      40 02 04 02 01 fde9             # AS_PATH: AS_SEQUENCE of 1, AS 65001 (2-octet)
      40 03 04 c000020b 80 04 04 00000064 40 05 04 000000c8 c0 08 04 ffff0000
      c0 20 0c 0000fc00 00000001 00000002
      20 c6336401 18 cb0071
    `);
    expectGolden(update, wire, { fourOctetAs: false, extendedMessages: false });
  });

  it('encodes and decodes IPv6 routes in MP_REACH_NLRI with a global and a link-local next hop', () => {
    const wire = hex(`
      ${MARKER} 0064 02  # length 100
      0000 004d          # no withdrawn routes; attributes 77 octets
      80 0e 3d           # MP_REACH_NLRI (optional non-transitive), length 61 (RFC 4760 §3)
        0002 01 20       #   AFI 2, SAFI 1, next hop length 32 (RFC 2545 §3)
        20010db8000000000000000000000001   # global 2001:db8::1
        fe800000000000000000000000000001   # link-local fe80::1
        00               #   reserved
        30 20010db80001  #   2001:db8:1::/48
        80 20010db8000000000000000000000010  # 2001:db8::10/128
      40 01 01 00        # ORIGIN IGP
      40 02 06 02 01 0000fde9  # AS_PATH 65001
    `);
    const v6: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 'igp',
        asPath: [{ type: 'sequence', asns: [65001] }],
        mpReach: {
          afi: 'ipv6',
          nextHop: '2001:db8::1',
          linkLocalNextHop: 'fe80::1',
          nlri: [parsePrefix('2001:db8:1::/48'), parsePrefix('2001:db8::10/128')],
        },
      },
      nlri: [],
    };
    expect(wire.length).toBe(100);
    expectGolden(v6, wire);
  });

  it('encodes End-of-RIB for IPv4 as the empty UPDATE and recognises it', () => {
    const wire = hex(`${MARKER} 0017 02 0000 0000`);
    expectGolden(endOfRib('ipv4'), wire);
    expect(isEndOfRib(endOfRib('ipv4'))).toBe('ipv4');
  });

  it('encodes End-of-RIB for IPv6 as an empty MP_UNREACH_NLRI and recognises it', () => {
    const wire = hex(`
      ${MARKER} 001d 02  # length 29
      0000 0006          # no withdrawn routes; attributes 6 octets
      80 0f 03 0002 01   # MP_UNREACH_NLRI: AFI 2, SAFI 1, no withdrawn routes (RFC 4724 §2)
    `);
    expectGolden(endOfRib('ipv6'), wire);
    expect(isEndOfRib(endOfRib('ipv6'))).toBe('ipv6');
  });
});

describe('golden NOTIFICATION, KEEPALIVE, ROUTE-REFRESH', () => {
  it('encodes and decodes Cease/Administrative Shutdown with an RFC 8203 shutdown communication', () => {
    const wire = hex(`
      ${MARKER} 0021 03  # length 33, type NOTIFICATION
      06 02              # Cease / Administrative Shutdown (RFC 4486)
      0b 6d61696e74656e616e6365   # length 11, "maintenance" (RFC 9003 §2)
    `);
    const message = ceaseNotification(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, 'maintenance');
    expect(message.shutdownCommunication).toBe('maintenance');
    expectGolden(message, wire);
  });

  it('encodes and decodes a KEEPALIVE as the bare header', () => {
    expectGolden({ type: 'keepalive' }, hex(`${MARKER} 0013 04`));
  });

  it('encodes and decodes a ROUTE-REFRESH for IPv6 unicast', () => {
    const wire = hex(`${MARKER} 0017 05 0002 00 01  # AFI 2, reserved, SAFI 1 (RFC 2918 §3)`);
    expectGolden({ type: 'route-refresh', afi: 2, safi: 1, subtype: 0 }, wire);
  });
});
