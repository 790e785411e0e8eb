/**
 * BgpPeer against a real GoBGP (the Debian `gobgpd` package). Loopback only: gobgpd runs in
 * this namespace bound to 127.0.0.1 on a free high port, passive for our neighbour (GoBGP never
 * retries faster than every 5 s, so we dial it), and is queried through its CLI on another free
 * port. No root is needed for that; the test skips itself, with a note on stderr, when
 * `gobgpd` or `gobgp` is not installed (`.ci/install-debian-packages.sh` installs them).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BgpPeer, type PeerLogger, type PeerRoute } from './index.js';
import { gobgpInstalled as available, startGobgpd, type Gobgpd } from './gobgpd-testing.js';

if (!available) process.stderr.write('gobgp.netns.test: skipped, gobgpd/gobgp not installed (run .ci/install-debian-packages.sh)\n');
const suite = available ? describe : describe.skip;

const LOCAL_ASN = 4_200_000_001; // needs 4 octets (RFC 6793)
const GOBGP_ASN = 64_512;
// GoBGP treats an UPDATE with a loopback next hop as a withdrawal; a documentation address is
// only data here (nothing routes to it).
const NEXT_HOP = '192.0.2.10';
const LARGE = `${LOCAL_ASN}:1:2`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RibPath {
  attrs: Array<{
    type: number;
    nexthop?: string;
    communities?: number[];
    as_paths?: Array<{ segment_type: number; num: number; asns: number[] }>;
    /** LARGE_COMMUNITY (type 32) as GoBGP prints it. */
    value?: unknown;
  }>;
}

suite('BgpPeer against GoBGP on loopback', () => {
  let gobgpd: Gobgpd | undefined;
  let peer: BgpPeer | undefined;
  const logLines: string[] = [];
  const log: PeerLogger = {
    info: (fields, msg) => logLines.push(`${msg} ${JSON.stringify(fields)}`),
    warn: (fields, msg) => logLines.push(`WARN ${msg} ${JSON.stringify(fields)}`),
  };

  const gobgp = (...args: string[]): Promise<unknown> => (gobgpd as Gobgpd).cli(...args);
  const sessionState = (): Promise<number | undefined> => (gobgpd as Gobgpd).state();
  let lastRib = '';
  const rib = async (): Promise<Record<string, RibPath[]>> => {
    const table = ((await gobgp('global', 'rib', '-a', 'ipv4')) ?? {}) as Record<string, RibPath[]>;
    lastRib = JSON.stringify(table);
    return table;
  };

  beforeAll(async () => {
    gobgpd = await startGobgpd({ asn: GOBGP_ASN, neighborAsn: LOCAL_ASN });
    peer = new BgpPeer({
      localAsn: LOCAL_ASN,
      peerAsn: GOBGP_ASN,
      localAddress: '127.0.0.1',
      peerAddress: '127.0.0.1',
      port: gobgpd.bgpPort,
      routerId: '10.255.0.2',
      holdTimeSec: 9,
      connectRetryMs: 200,
      families: ['ipv4'],
      log,
    });
  }, 30_000);

  afterAll(async () => {
    peer?.stop();
    await gobgpd?.stop();
  }, 15_000);

  const route = (prefix: string): PeerRoute => ({ prefix, nextHop: NEXT_HOP, communities: ['65535:0'], largeCommunities: [LARGE] });
  const prefixes = ['198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32'];

  it('establishes with a 4-octet AS and advertises the Adj-RIB-Out with communities', async () => {
    const p = peer as BgpPeer;
    p.setRoutes(prefixes.map(route));
    const established = new Promise((resolve) => p.on('established', resolve));
    p.start();
    try {
      await established;
      await waitFor('GoBGP Established', async () => ((await sessionState()) === 6 ? true : undefined));
      const table = await waitFor('3 routes in GoBGP', async () => {
        const t = await rib();
        return prefixes.every((x) => t[x] !== undefined) ? t : undefined;
      });
      expect(Object.keys(table).sort()).toEqual(prefixes);
      for (const x of prefixes) {
        const attrs = table[x]?.[0]?.attrs ?? [];
        expect(attrs.find((a) => a.type === 3)?.nexthop).toBe(NEXT_HOP);
        expect(attrs.find((a) => a.type === 8)?.communities).toEqual([0xffff_0000]);
        expect(attrs.find((a) => a.type === 2)?.as_paths).toEqual([{ segment_type: 2, num: 1, asns: [LOCAL_ASN] }]);
        expect(attrs.find((a) => a.type === 32)?.value).toEqual([{ ASN: LOCAL_ASN, LocalData1: 1, LocalData2: 2 }]);
      }
      expect(p.negotiated?.peerAsn).toBe(GOBGP_ASN);
      expect(p.negotiated?.fourOctetAsn).toBe(true);
      // One UPDATE for the three routes (shared attributes), one End-of-RIB.
      expect(p.counters).toMatchObject({ updatesSent: 2, prefixesAdvertised: 3 });
    } catch (err) {
      throw new Error(`${String(err)}\n--- peer log\n${logLines.join('\n')}\n--- last GoBGP RIB\n${lastRib}\n--- gobgpd log\n${gobgpd?.output() ?? ''}`, { cause: err });
    }
  }, 30_000);

  it('withdraws a prefix that setRoutes drops, in one UPDATE', async () => {
    const p = peer as BgpPeer;
    const before = p.counters.updatesSent;
    const diff = p.setRoutes(prefixes.slice(0, 2).map(route));
    expect(diff.announce).toHaveLength(0);
    expect(diff.withdraw).toHaveLength(1);
    const table = await waitFor('198.51.100.3/32 withdrawn', async () => {
      const t = await rib();
      return t['198.51.100.3/32'] === undefined ? t : undefined;
    });
    expect(Object.keys(table).sort()).toEqual(prefixes.slice(0, 2));
    expect(p.counters.updatesSent).toBe(before + 1);
  }, 30_000);

  it('on stop sends Cease and GoBGP drops the session and our routes', async () => {
    const p = peer as BgpPeer;
    const down = new Promise((resolve) => p.on('down', resolve));
    p.stop('maintenance');
    await expect(down).resolves.toMatchObject({ from: 'Established', reason: 'manualStop' });
    expect(p.state).toBe('Idle');
    await waitFor('GoBGP not Established', async () => ((await sessionState()) !== 6 ? true : undefined));
    const table = await waitFor('routes gone', async () => {
      const t = await rib();
      return Object.keys(t).length === 0 ? t : undefined;
    });
    expect(table).toEqual({});
  }, 30_000);
});
