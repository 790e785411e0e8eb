import { describe, expect, it } from '@jest/globals';
import { backoffMs, buildOpen, checkOpen, keepaliveMsFor, negotiateCapabilities, sessionConfig } from './open.js';
import type { OpenMessage } from './types.js';

const config = sessionConfig({ localAsn: 64512, peerAsn: 64513, localBgpId: 0x0a00_0001 });

const open = (overrides: Partial<OpenMessage> = {}): OpenMessage => ({
  type: 'open',
  version: 4,
  asn: 64513,
  holdTime: 90,
  bgpId: 0x0a00_0002,
  capabilities: {},
  ...overrides,
});

describe('sessionConfig', () => {
  it('fills in the defaults', () => {
    expect(config).toEqual({
      localAsn: 64512,
      peerAsn: 64513,
      localBgpId: 0x0a00_0001,
      holdTimeSec: 90,
      connectRetryMs: 1000,
      connectRetryMaxMs: 30_000,
      largeHoldTimeMs: 240_000,
      autoRestart: true,
      capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true },
    });
  });

  it.each([
    [{ holdTimeSec: 1 }, /holdTimeSec 1/],
    [{ holdTimeSec: 2 }, /holdTimeSec 2/],
    [{ holdTimeSec: 70_000 }, /holdTimeSec/],
    [{ localBgpId: 0 }, /localBgpId 0/],
    [{ peerAsn: 2 ** 32 }, /peerAsn/],
    [{ connectRetryMs: 0 }, /connectRetryMs 0/],
    [{ connectRetryMaxMs: 10 }, /connectRetryMaxMs 10/],
  ])('rejects %j', (override, message) => {
    expect(() => sessionConfig({ localAsn: 64512, peerAsn: 64513, localBgpId: 1, ...override })).toThrow(message);
  });
});

describe('backoffMs', () => {
  it('doubles per failure from connectRetryMs up to connectRetryMaxMs', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 1000].map((n) => backoffMs(config, n))).toEqual([0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});

describe('buildOpen', () => {
  it('sends AS_TRANS in My AS and the real AS in the 4-octet capability when the AS needs 4 octets', () => {
    const big = sessionConfig({ localAsn: 4_200_000_000, peerAsn: 64513, localBgpId: 7 });
    expect(buildOpen(big)).toEqual({
      type: 'open',
      version: 4,
      asn: 23456,
      holdTime: 90,
      bgpId: 7,
      capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, fourOctetAsn: 4_200_000_000 },
    });
    expect(buildOpen(config).asn).toBe(64512);
  });
});

describe('checkOpen', () => {
  it('accepts a valid OPEN and negotiates the smaller hold time', () => {
    const check = checkOpen(open({ holdTime: 30 }), config);
    expect(check).toMatchObject({ ok: true, negotiated: { holdTimeSec: 30, keepaliveMs: 10_000, peerAsn: 64513, ibgp: false } });
  });

  it.each([
    ['an unsupported version', open({ version: 3 }), 'unsupportedVersion', 1],
    ['the wrong peer AS', open({ asn: 65000 }), 'badPeerAs', 2],
    ['a 4-octet capability contradicting My AS', open({ asn: 65000, capabilities: { fourOctetAsn: 64513 } }), 'badPeerAs', 2],
    ['hold time 1', open({ holdTime: 1 }), 'unacceptableHoldTime', 6],
    ['hold time 2', open({ holdTime: 2 }), 'unacceptableHoldTime', 6],
    ['BGP identifier 0', open({ bgpId: 0 }), 'badBgpIdentifier', 3],
  ])('rejects %s', (_title, message, reason, subcode) => {
    expect(checkOpen(message, config)).toMatchObject({ ok: false, reason, notification: { code: 2, subcode } });
  });

  it('accepts the AS from the OPEN with a dynamic peer AS: internal only ours, external any other', () => {
    const internal = sessionConfig({ localAsn: 64512, peerAsn: 'internal', localBgpId: 1 });
    expect(checkOpen(open({ asn: 64512 }), internal)).toMatchObject({ ok: true, negotiated: { peerAsn: 64512, ibgp: true } });
    expect(checkOpen(open({ asn: 64513 }), internal)).toMatchObject({ ok: false, reason: 'badPeerAs' });
    const external = sessionConfig({ localAsn: 64512, peerAsn: 'external', localBgpId: 1 });
    expect(checkOpen(open({ asn: 65001 }), external)).toMatchObject({ ok: true, negotiated: { peerAsn: 65001, ibgp: false } });
    expect(checkOpen(open({ asn: 23456, capabilities: { fourOctetAsn: 4_200_000_000 } }), external)).toMatchObject({ ok: true, negotiated: { peerAsn: 4_200_000_000 } });
    expect(checkOpen(open({ asn: 64512 }), external)).toMatchObject({ ok: false, reason: 'badPeerAs' });
    expect(() => sessionConfig({ localAsn: 64512, peerAsn: 0, localBgpId: 1 })).toThrow(RangeError);
  });

  it('takes the peer AS from the 4-octet AS capability (RFC 6793)', () => {
    const cfg = sessionConfig({ localAsn: 64512, peerAsn: 4_200_000_000, localBgpId: 1 });
    expect(checkOpen(open({ asn: 23456, capabilities: { fourOctetAsn: 4_200_000_000 } }), cfg)).toMatchObject({
      ok: true,
      negotiated: { peerAsn: 4_200_000_000, fourOctetAsn: true },
    });
    // Without the capability the peer can only send AS_TRANS, which is not the configured AS.
    expect(checkOpen(open({ asn: 23456 }), cfg)).toMatchObject({ ok: false, reason: 'badPeerAs' });
  });

  it('rejects our own identifier from an internal peer but accepts it from an external one (RFC 6286 2.2)', () => {
    const ibgp = sessionConfig({ localAsn: 64512, peerAsn: 64512, localBgpId: 0x0a00_0001 });
    expect(checkOpen(open({ asn: 64512, bgpId: 0x0a00_0001 }), ibgp)).toMatchObject({ ok: false, reason: 'badBgpIdentifier' });
    expect(checkOpen(open({ bgpId: 0x0a00_0001 }), config)).toMatchObject({ ok: true });
  });

  it('compares identifiers as unsigned 32-bit integers', () => {
    expect(checkOpen(open({ bgpId: 0xffff_ffff }), config)).toMatchObject({ ok: true, negotiated: { peerBgpId: 0xffff_ffff } });
  });
});

describe('keepaliveMsFor', () => {
  it('is a third of the hold time, and 0 for hold time 0', () => {
    expect([0, 3, 4, 9, 90].map(keepaliveMsFor)).toEqual([0, 1000, 1333, 3000, 30_000]);
  });
});

describe('negotiateCapabilities', () => {
  it('uses only what both sides advertise', () => {
    expect(
      negotiateCapabilities(
        {
          multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }],
          fourOctetAsn: 64512,
          routeRefresh: true,
          extendedMessage: true,
          gracefulRestart: { restartTimeSec: 120, restarting: false, families: [] },
        },
        {
          multiprotocol: [{ afi: 2, safi: 1 }, { afi: 1, safi: 128 }],
          fourOctetAsn: 64513,
          routeRefresh: false,
          extendedMessage: true,
          gracefulRestart: {
            restartTimeSec: 90,
            restarting: true,
            families: [
              { afi: 2, safi: 1, forwardingPreserved: true },
              { afi: 1, safi: 128, forwardingPreserved: true },
            ],
          },
        },
      ),
    ).toEqual({
      families: [{ afi: 2, safi: 1 }],
      fourOctetAsn: true,
      routeRefresh: false,
      extendedMessage: true,
      gracefulRestart: { peerRestartTimeSec: 90, peerRestarting: true, families: [{ afi: 2, safi: 1, forwardingPreserved: true }] },
    });
  });

  it('implies IPv4 unicast for a side without Multiprotocol capabilities (RFC 4760 8)', () => {
    expect(negotiateCapabilities({}, {}).families).toEqual([{ afi: 1, safi: 1 }]);
    expect(negotiateCapabilities({ multiprotocol: [{ afi: 1, safi: 1 }] }, {}).families).toEqual([{ afi: 1, safi: 1 }]);
    expect(negotiateCapabilities({ multiprotocol: [{ afi: 2, safi: 1 }] }, {}).families).toEqual([]);
  });

  it('leaves Graceful Restart out unless both sides advertise it', () => {
    expect(negotiateCapabilities({}, { gracefulRestart: { restartTimeSec: 1, restarting: false, families: [] } })).not.toHaveProperty('gracefulRestart');
  });
});
