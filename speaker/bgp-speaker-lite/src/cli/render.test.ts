import { describe, expect, it } from '@jest/globals';
import { shutdownCommunicationData } from '../codec/encode.js';
import type * as fsm from '../fsm/index.js';
import { normalizeRoute } from '../peer/adjribout.js';
import { BgpPeer } from '../peer/peer.js';
import { downEvent, line, notificationName, notificationView, showEvent, stateEvent } from './render.js';

const negotiated: fsm.Negotiated = {
  families: [
    { afi: 1, safi: 1 },
    { afi: 2, safi: 1 },
    { afi: 25, safi: 65 },
  ],
  fourOctetAsn: true,
  routeRefresh: true,
  extendedMessage: false,
  holdTimeSec: 9,
  keepaliveMs: 3_000,
  peerAsn: 64_512,
  peerBgpId: 0x0aff_0001,
  ibgp: false,
};

describe('render', () => {
  it('names NOTIFICATIONs after the RFC tables, with numbers for unknown ones', () => {
    expect(notificationName(1, 2)).toBe('message-header-error/bad-message-length');
    expect(notificationName(2, 6)).toBe('open-message-error/unacceptable-hold-time');
    expect(notificationName(3, 10)).toBe('update-message-error/invalid-network-field');
    expect(notificationName(4, 0)).toBe('hold-timer-expired');
    expect(notificationName(5, 3)).toBe('finite-state-machine-error/unexpected-message-in-established');
    expect(notificationName(6, 2)).toBe('cease/administrative-shutdown');
    expect(notificationName(6, 99)).toBe('cease/subcode-99');
    expect(notificationName(42, 1)).toBe('code-42/subcode-1');
  });

  it('shows NOTIFICATION data as hex and decodes a Shutdown Communication (RFC 9003)', () => {
    expect(notificationView({ code: 1, subcode: 2, data: Uint8Array.of(0x10, 0x01) })).toEqual({
      code: 1,
      subcode: 2,
      name: 'message-header-error/bad-message-length',
      data: '1001',
    });
    expect(notificationView({ code: 6, subcode: 2, data: shutdownCommunicationData('maintenance') })).toMatchObject({ shutdownCommunication: 'maintenance' });
    // Invalid UTF-8 is not interpreted (RFC 9003 §2); a length past the data neither.
    expect(notificationView({ code: 6, subcode: 2, data: Uint8Array.of(1, 0xff) })).not.toHaveProperty('shutdownCommunication');
    expect(notificationView({ code: 6, subcode: 2, data: Uint8Array.of(5, 0x61) })).not.toHaveProperty('shutdownCommunication');
    expect(notificationView({ code: 3, subcode: 1, data: shutdownCommunicationData('x') })).not.toHaveProperty('shutdownCommunication');
  });

  it('prints state changes and downs as one JSON line each', () => {
    expect(line(stateEvent({ from: 'OpenConfirm', to: 'Established', event: 'KeepAliveMsg' }))).toBe(
      '{"event":"state","from":"OpenConfirm","to":"Established","trigger":"KeepAliveMsg"}\n',
    );
    expect(JSON.parse(line(downEvent({ from: 'Established', reason: 'holdTimerExpired', notification: { code: 4, subcode: 0, data: new Uint8Array(0) } })))).toEqual({
      event: 'down',
      from: 'Established',
      reason: 'holdTimerExpired',
      notification: { code: 4, subcode: 0, name: 'hold-timer-expired', data: '' },
    });
    expect(downEvent({ from: 'Connect', reason: 'tcpConnectionFails' })).toEqual({ event: 'down', from: 'Connect', reason: 'tcpConnectionFails' });
  });

  it('shows state, negotiated parameters, counters and routes in text form', () => {
    const routes = [
      normalizeRoute({ prefix: '198.51.100.1', nextHop: '192.0.2.10', communities: ['65535:0', '65000:1'], largeCommunities: ['1:2:3'], localPref: 100, med: 5 }),
      normalizeRoute({ prefix: '2001:db8::/64', nextHop: '2001:db8::1' }),
    ];
    // Whatever counters the peer keeps (a peer that is never started opens nothing).
    const zero = new BgpPeer({ localAsn: 65_000, peerAsn: 64_512, peerAddress: '192.0.2.1', routerId: '10.0.0.1' }).counters;
    const counters = { ...zero, updatesSent: 3, messagesReceived: 4 };
    expect(showEvent({ state: 'Established', negotiated, counters, routes })).toEqual({
      event: 'show',
      state: 'Established',
      negotiated: {
        peerAsn: 64_512,
        peerBgpId: '10.255.0.1',
        holdTimeSec: 9,
        keepaliveMs: 3_000,
        ibgp: false,
        families: ['ipv4-unicast', 'ipv6-unicast', 'afi-25/safi-65'],
        fourOctetAsn: true,
        routeRefresh: true,
        extendedMessage: false,
      },
      counters,
      routes: [
        { prefix: '198.51.100.1/32', nextHop: '192.0.2.10', communities: ['65000:1', '65535:0'], largeCommunities: ['1:2:3'], localPref: 100, med: 5 },
        { prefix: '2001:db8::/64', nextHop: '2001:db8::1' },
      ],
    });
    expect(showEvent({ state: 'Idle', negotiated: undefined, counters, routes: [] })).toMatchObject({ negotiated: null, routes: [] });
  });
});
