/**
 * The initial UPDATEs of a session (RFC 4271 §9.2) come from a copy packed before the session
 * is up when the negotiation matches what was expected, and are packed afresh otherwise. Either
 * way the peer must receive exactly the Adj-RIB-Out, then End-of-RIB (RFC 4724 §2).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeMessage } from '../codec/encode.js';
import { formatPrefix } from '../codec/prefix.js';
import type { UpdateMessage } from '../codec/types.js';
import { BgpPeer } from './peer.js';
import type { PeerRoute } from './adjribout.js';
import { ScriptedConnection, ScriptedPeer, type ScriptedOpen } from './scripted-peer.js';

const SCRIPT: ScriptedOpen = { asn: 65_001, bgpId: '10.0.0.2', holdTime: 9 };
const v4 = (n: number, nextHop = '192.0.2.10', communities = ['64500:1']): PeerRoute[] =>
  Array.from({ length: n }, (_, i) => ({ prefix: `10.${(i >> 8) & 255}.${i & 255}.0/24`, nextHop, communities }));

let script: ScriptedPeer | undefined;
let peer: BgpPeer | undefined;
afterEach(async () => {
  peer?.stop();
  await script?.close();
  peer = undefined;
  script = undefined;
});

async function start(localAsn: number, families: ('ipv4' | 'ipv6')[], routes: PeerRoute[]): Promise<{ script: ScriptedPeer; peer: BgpPeer }> {
  script = await ScriptedPeer.listen();
  peer = new BgpPeer({ localAsn, peerAsn: SCRIPT.asn, peerAddress: '127.0.0.1', port: script.port, routerId: '10.0.0.1', holdTimeSec: 9, connectRetryMs: 100, families });
  peer.setRoutes(routes);
  peer.start();
  return { script, peer };
}

const isEndOfRib = (u: UpdateMessage): boolean => u.nlri.length === 0 && u.withdrawn.length === 0 && u.attributes.mpReach === undefined && (u.attributes.mpUnreach?.withdrawn.length ?? 0) === 0;

/** UPDATEs up to and including the first End-of-RIB; prefix → communities. */
async function initialTable(conn: ScriptedConnection): Promise<{ table: Map<string, readonly number[]>; updates: number }> {
  const table = new Map<string, readonly number[]>();
  let updates = 0;
  for (;;) {
    const u = await conn.expect('update');
    updates++;
    if (isEndOfRib(u)) return { table, updates };
    for (const p of u.nlri) table.set(formatPrefix(p), u.attributes.communities ?? []);
  }
}

describe('BgpPeer initial UPDATEs', () => {
  it('sends the whole Adj-RIB-Out prepared in advance, packed, then End-of-RIB, and counts it', async () => {
    const { script: s, peer: p } = await start(4_200_000_001, ['ipv4'], v4(3000));
    const conn = await s.acceptSession(SCRIPT);
    const { table, updates } = await initialTable(conn);
    expect(table.size).toBe(3000);
    expect(table.get('10.11.183.0/24')).toEqual([64500 * 65536 + 1]);
    // 3,000 /24s with one set of attributes fit in a handful of 4,096-octet UPDATEs.
    expect(updates).toBeLessThan(10);
    expect(p.counters.prefixesAdvertised).toBe(3000);
    expect(p.counters.updatesSent).toBe(updates);
  });

  it('packs afresh when the peer negotiates differently (2-octet AS, IPv4 only of IPv4+IPv6)', async () => {
    const routes: PeerRoute[] = [...v4(50), { prefix: '2001:db8::/64', nextHop: '2001:db8::10' }];
    const { script: s, peer: p } = await start(64_500, ['ipv4', 'ipv6'], routes);
    const conn = await s.accept();
    await conn.expect('open');
    const open = ScriptedConnection.open(SCRIPT);
    // No 4-octet AS capability: AS_PATH must be written with 2-octet ASNs (RFC 6793 §4.2.2).
    await conn.write(encodeMessage({ ...open, capabilities: { ...open.capabilities, fourOctetAs: false } }, { fourOctetAs: false, extendedMessages: false }));
    await conn.send({ type: 'keepalive' });
    conn.ctx = { fourOctetAs: false, extendedMessages: false };
    await conn.expect('keepalive');
    const { table } = await initialTable(conn);
    expect([...table.keys()]).toHaveLength(50);
    expect(table.has('2001:db8::/64')).toBe(false);
    expect(p.negotiated?.fourOctetAsn).toBe(false);
  });

  it('sends the routes of the moment after they changed while the session was down', async () => {
    const { script: s, peer: p } = await start(4_200_000_001, ['ipv4'], v4(10));
    const first = await s.acceptSession(SCRIPT);
    expect((await initialTable(first)).table.size).toBe(10);
    first.destroy();
    await new Promise<void>((r) => {
      const off = p.on('down', () => {
        off();
        r();
      });
    });
    p.setRoutes(v4(20, '192.0.2.11', ['64500:2']));
    const second = await s.acceptSession(SCRIPT);
    const { table } = await initialTable(second);
    expect(table.size).toBe(20);
    expect(new Set([...table.values()].map((c) => c.join()))).toEqual(new Set([String(64500 * 65536 + 2)]));
  });
});
