import { describe, expect, it } from '@jest/globals';
import { parseStatusObjects, reportedFor, sessionProblem, sessionRows, speakersFromLeases } from './objects.js';
import { NOW, bgpStatus, l2Status, lease, session } from './__fixtures__/world.js';

describe('speakersFromLeases', () => {
  it('counts a speaker alive while renewTime + leaseDurationSeconds is in the future', () => {
    const expired = lease('b', 15_000, 10);
    const noRenew = { ...lease('c'), spec: { holderIdentity: 'c', leaseDurationSeconds: 10 } };
    expect(speakersFromLeases([lease('a', 9_000, 10), expired, noRenew], NOW)).toEqual([
      { node: 'a', alive: true, renewTime: new Date(NOW - 9_000).toISOString() },
      { node: 'b', alive: false, renewTime: new Date(NOW - 15_000).toISOString(), expiredForMs: 5_000 },
      { node: 'c', alive: false },
    ]);
  });

  it('reads the node from the herald.io/node annotation, else the holder, and skips Leases with neither', () => {
    const l = lease('x');
    const byHolder = { ...l, metadata: { name: 'herald-speaker-y' }, spec: { ...l.spec, holderIdentity: 'y' } };
    const anonymous = { metadata: { name: 'z' }, spec: {} };
    expect(speakersFromLeases([byHolder, anonymous], NOW).map((s) => s.node)).toEqual(['y']);
  });

  it('carries the L2 warning a speaker publishes on its Lease (kube-proxy IPVS without strictARP)', () => {
    const l = lease('w');
    const warned = { ...l, metadata: { ...l.metadata, annotations: { ...l.metadata?.annotations, 'herald.io/l2-warning': 'kube-proxy runs in IPVS mode without strictARP' } } };
    expect(speakersFromLeases([warned, lease('v')], NOW).map((s) => s.l2Warning)).toEqual([undefined, 'kube-proxy runs in IPVS mode without strictARP']);
  });
});

describe('status objects', () => {
  it('finds what speakers report for one Service by its status fields', () => {
    const objs = parseStatusObjects({
      l2: [l2Status('a', 'web', 'n2', ['eth1']), l2Status('a', 'other', 'n1'), l2Status('b', 'web', 'n3')],
      bgp: [bgpStatus('a', 'web', 'n2', ['r2', 'r1']), bgpStatus('a', 'web', 'n1', ['r1'])],
      sessions: [],
    });
    expect(reportedFor(objs, 'a', 'web')).toEqual({
      l2: [{ node: 'n2', interfaces: ['eth1'] }],
      bgp: [
        { node: 'n1', peers: ['r1'] },
        { node: 'n2', peers: ['r1', 'r2'] },
      ],
    });
  });

  it('skips status objects Herald would refuse, as the speaker does', () => {
    const bad = session('n1', 'r1', '192.0.2.1', { bgpStatus: 'Active', establishedSince: new Date(NOW).toISOString() });
    expect(parseStatusObjects({ l2: [], bgp: [], sessions: [bad] }).sessions).toEqual([]);
  });

  it('flags sessions that are not Established, or whose BFD is not Up', () => {
    const rows = sessionRows(
      parseStatusObjects({
        l2: [],
        bgp: [],
        sessions: [
          session('n1', 'r1', '192.0.2.1', { bgpStatus: 'Established', bfdStatus: 'Up' }),
          session('n1', 'r2', '192.0.2.2', { bgpStatus: 'Established', bfdStatus: 'Down' }),
          session('n2', 'r1', '192.0.2.1', { bgpStatus: 'Active', bfdStatus: 'N/A', lastError: 'dial 192.0.2.1:179: connection refused' }),
        ],
      }).sessions,
      NOW,
    );
    expect(rows.map(sessionProblem)).toEqual([
      undefined,
      'BGP session n1 -> r2 (192.0.2.2): BFD is Down',
      'BGP session n2 -> r1 (192.0.2.1) is Active: dial 192.0.2.1:179: connection refused',
    ]);
  });
});
