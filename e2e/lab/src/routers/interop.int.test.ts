/**
 * bgp-speaker-lite against real routers: FRR 8.4, BIRD 2.0 and GoBGP 3.x, each in its own lab
 * host, and two lab nodes whose stand-in speakers (bgp-node.js) peer with all three.
 *
 * - node-1 and node-2 speak eBGP over IPv4 (AS 4200000001, 4 octets) with IPv4 and IPv6 unicast
 *   on the same session (MP-BGP, RFC 4760; IPv6 next hop = the node's own IPv6 address).
 * - node-1 also speaks iBGP over IPv6 to each router (its own ASN as the node's), carrying
 *   LOCAL_PREF.
 * - Hold time 3 s (the nodes propose it; the routers accept the smaller value).
 * - FRR and BIRD run BFD towards node-1; our side runs none yet, so it stays Down there.
 * - Each router also has a neighbour with a TCP MD5 password and multihop that never comes up:
 *   it proves the daemons accept that configuration (our speaker cannot do MD5 without the
 *   native addon).
 * Needs root (network namespaces) and the Debian packages frr, bird2 and gobgpd.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createLab, listNamespaces, type Lab } from '../lab.js';
import { startBgpNode, type BgpNode } from './bgp-node-client.js';
import type { BgpNodePeer, LabRoute } from './bgp-node-protocol.js';
import { waitFor } from './poll.js';
import { startRouter, waitForNeighbor, waitForNoRoute, waitForRoute } from './router.js';
import type { Afi, Router, RouterKind } from './types.js';

const KINDS: readonly RouterKind[] = ['frr', 'bird', 'gobgp'];
const BINARIES = ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', '/usr/lib/frr/bfdd', 'vtysh', 'bird', 'birdc', 'gobgpd', 'gobgp'];
const missing = BINARIES.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
const ROOT = process.getuid?.() === 0;
if (!ROOT) process.stderr.write('routers interop: skipped, needs root (network namespaces)\n');
else if (missing.length > 0) process.stderr.write(`routers interop: skipped, missing ${missing.join(', ')} (install frr bird2 gobgpd)\n`);
const suite = ROOT && missing.length === 0 ? describe : describe.skip;

/** Our side: 4 octets, so AS_TRANS goes in OPEN's My AS (RFC 6793). */
const NODE_ASN = 4_200_000_001;
const ROUTER_ASN: Readonly<Record<RouterKind, number>> = { frr: 64512, bird: 64513, gobgp: 64514 };
const HOLD_TIME_SEC = 3;
const BFD = { rxMs: 300, txMs: 300, multiplier: 3 };
const COMMUNITIES = ['64512:100', '65535:65281']; // the second is NO_EXPORT (RFC 1997), named by FRR
const LARGE = [`${NODE_ASN}:1:2`];
const MED = 10;
const LOCAL_PREF = 250;

// Documentation prefixes (RFC 5737, RFC 3849), outside the lab's own 192.0.2.0/24 and 2001:db8::/64.
const ANYCAST = { ipv4: '198.51.100.1/32', ipv6: '2001:db8:ff::1/128' } as const;
const own = (i: number): Record<Afi, string> => ({ ipv4: `198.51.100.1${i}/32`, ipv6: `2001:db8:ff::1${i}/128` });
const IBGP = { ipv4: '203.0.113.1/32', ipv6: '2001:db8:ff:1::1/128' } as const;
const AFIS: readonly Afi[] = ['ipv4', 'ipv6'];

const ebgpPeer = (k: RouterKind): string => `${k}4`;
const ibgpPeer = (k: RouterKind): string => `${k}6`;

interface Env {
  lab: Lab;
  routers: Record<RouterKind, Router>;
  nodes: BgpNode[];
}

suite('bgp-speaker-lite interop with FRR, BIRD and GoBGP (needs root)', () => {
  let env: Env | undefined;
  let lab: Lab | undefined;
  const routers: Partial<Record<RouterKind, Router>> = {};
  const nodes: BgpNode[] = [];

  const E = (): Env => {
    if (env === undefined) throw new Error('lab not set up (see beforeAll)');
    return env;
  };
  const addr = (host: string, afi: Afi): string => {
    if (lab === undefined) throw new Error('lab not set up (see beforeAll)');
    const h = lab.host(host);
    return afi === 'ipv4' ? h.ipv4 : h.ipv6;
  };
  const nodeRoutes = (i: number, withOwn = true): LabRoute[] => {
    const host = `node-${i}`;
    return AFIS.flatMap((afi) => [ANYCAST[afi], ...(withOwn ? [own(i)[afi]] : [])].map((prefix) => ({ prefix, nextHop: addr(host, afi), communities: COMMUNITIES, largeCommunities: LARGE, med: MED })));
  };

  beforeAll(async () => {
    const l = await createLab({ nodes: 2, routers: [...KINDS] });
    lab = l;
    const n1 = l.host('node-1');
    const n2 = l.host('node-2');
    const started = await Promise.allSettled(
      KINDS.map(async (k) => {
        routers[k] = await startRouter(l, k, k, {
          asn: ROUTER_ASN[k],
          routerId: l.host(k).ipv4,
          neighbors: [
            { address: n1.ipv4, asn: NODE_ASN, ...(k === 'gobgp' ? {} : { bfd: BFD }) },
            { address: n2.ipv4, asn: NODE_ASN, gracefulRestart: true },
            { address: n1.ipv6, asn: ROUTER_ASN[k] },
            { address: '192.0.2.99', asn: 4_200_000_099, password: 'herald-lab-md5', multihop: true },
          ],
        });
      }),
    );
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;

    for (const i of [1, 2]) {
      const host = `node-${i}`;
      const peers: BgpNodePeer[] = KINDS.map((k) => ({ name: ebgpPeer(k), peerAddress: l.host(k).ipv4, peerAsn: ROUTER_ASN[k] }));
      if (i === 1) peers.push(...KINDS.map((k) => ({ name: ibgpPeer(k), peerAddress: l.host(k).ipv6, peerAsn: ROUTER_ASN[k], localAsn: ROUTER_ASN[k] })));
      const node = await startBgpNode(l, host, { localAsn: NODE_ASN, routerId: l.host(host).ipv4, holdTimeSec: HOLD_TIME_SEC, connectRetryMs: 250, peers });
      nodes.push(node);
      await node.setRoutes(nodeRoutes(i), KINDS.map(ebgpPeer));
      if (i === 1) {
        await node.setRoutes(
          AFIS.map((afi) => ({ prefix: IBGP[afi], nextHop: addr(host, afi), localPref: LOCAL_PREF, communities: ['64512:200'] })),
          KINDS.map(ibgpPeer),
        );
      }
    }
    await Promise.all(nodes.map((n) => n.waitEstablished(undefined, 60_000)));
    env = { lab: l, routers: routers as Record<RouterKind, Router>, nodes };
  }, 120_000);

  afterAll(async () => {
    try {
      await Promise.allSettled(nodes.map((n) => n.close()));
      await Promise.allSettled(Object.values(routers).map((r) => r.stop()));
    } finally {
      await lab?.destroy();
    }
    if (lab !== undefined) expect([...(await listNamespaces())].filter((n) => n.startsWith(`${lab?.prefix ?? '?'}-`))).toEqual([]);
  }, 60_000);

  describe.each(KINDS)('%s', (kind) => {
    const router = (): Router => E().routers[kind];

    it('establishes eBGP over IPv4 with both nodes and iBGP over IPv6 with node-1, at hold time 3 s', async () => {
      for (const a of [addr('node-1', 'ipv4'), addr('node-2', 'ipv4'), addr('node-1', 'ipv6')]) {
        const n = await waitForNeighbor(router(), a, (x) => x.state === 'Established', { timeoutMs: 30_000 });
        expect(n.holdTimeSec).toBe(HOLD_TIME_SEC);
      }
      // The MD5 + multihop neighbour loaded but nobody speaks to it.
      const md5 = (await router().neighbors()).find((n) => n.address === '192.0.2.99');
      expect(md5?.state).not.toBe('Established');
    }, 60_000);

    it.each(AFIS)('learns each node\'s own %s prefix with that node\'s address as next hop', async (afi) => {
      for (const i of [1, 2]) {
        const r = await waitForRoute(router(), afi, own(i)[afi], undefined, { timeoutMs: 30_000 });
        expect(r.nextHops).toEqual([addr(`node-${i}`, afi)]);
        expect(r.paths).toHaveLength(1);
      }
    }, 60_000);

    it.each(AFIS)('holds the %s prefix both nodes announce as two paths, and as ECMP where it supports it', async (afi) => {
      const both = [addr('node-1', afi), addr('node-2', afi)].sort();
      const r = await waitForRoute(router(), afi, ANYCAST[afi], (x) => x.paths.length === 2, { timeoutMs: 30_000 });
      expect(r.paths.map((p) => p.nextHop).sort()).toEqual(both);
      if (kind === 'gobgp') {
        // GoBGP's RIB marks one best path and shows no multipath; see gobgp-config.ts.
        expect(r.nextHops).toHaveLength(1);
        expect(both).toContain(r.nextHops[0]);
      } else {
        expect(r.nextHops).toEqual(both);
      }
    }, 60_000);

    it('carries the 4-octet AS, communities, large communities and MED of eBGP routes', async () => {
      for (const afi of AFIS) {
        const r = await waitForRoute(router(), afi, own(1)[afi], undefined, { timeoutMs: 30_000 });
        expect(r).toMatchObject({ asPath: [NODE_ASN], communities: [...COMMUNITIES], largeCommunities: [...LARGE], med: MED });
      }
    }, 60_000);

    it('shows LOCAL_PREF and an empty AS path on routes from the iBGP session over IPv6', async () => {
      for (const afi of AFIS) {
        const r = await waitForRoute(router(), afi, IBGP[afi], undefined, { timeoutMs: 30_000 });
        expect(r).toMatchObject({ localPref: LOCAL_PREF, asPath: [], communities: ['64512:200'], nextHops: [addr('node-1', afi)] });
        expect(r.paths[0]?.from).toBe(addr('node-1', 'ipv6'));
      }
    }, 60_000);

    if (kind === 'gobgp') {
      it('installs nothing in its kernel table (GoBGP has no FIB without zebra)', async () => {
        const k = await router().kernelRoutes('ipv4');
        expect(k.find((r) => r.prefix === ANYCAST.ipv4)).toBeUndefined();
      });
    } else {
      it.each(AFIS)('installs the %s ECMP route into its kernel table with both next hops', async (afi) => {
        const both = [addr('node-1', afi), addr('node-2', afi)].sort();
        let last: unknown;
        const k = await waitFor(
          `a 2-way kernel route for ${ANYCAST[afi]} in ${kind}`,
          async () => {
            const r = (await router().kernelRoutes(afi)).find((x) => x.prefix === ANYCAST[afi]);
            last = r;
            return r !== undefined && r.nextHops.length === 2 ? r : undefined;
          },
          { timeoutMs: 30_000, detail: () => JSON.stringify(last) },
        );
        expect(k.nextHops).toEqual(both);
      }, 60_000);

      it('runs BFD towards node-1, which stays Down (our side runs no BFD yet) without touching BGP', async () => {
        const n = await waitForNeighbor(router(), addr('node-1', 'ipv4'), (x) => x.bfd !== undefined, { timeoutMs: 30_000 });
        expect(['Down', 'Init']).toContain(n.bfd);
        expect(n.state).toBe('Established');
        const others = (await router().neighbors()).filter((x) => x.address !== addr('node-1', 'ipv4'));
        expect(others.every((x) => x.bfd === undefined)).toBe(true);
      }, 60_000);
    }
  });

  it('withdraws at every router the prefixes a node stops announcing, and keeps the others', async () => {
    const { routers: rs, nodes: [n1] } = E();
    if (n1 === undefined) throw new Error('node-1 missing');
    await n1.setRoutes(nodeRoutes(1, false), KINDS.map(ebgpPeer));
    await Promise.all(KINDS.flatMap((k) => AFIS.map((afi) => waitForNoRoute(rs[k], afi, own(1)[afi], { timeoutMs: 30_000 }))));
    for (const k of KINDS) {
      for (const afi of AFIS) {
        const routes = await rs[k].routes(afi);
        expect(routes.find((r) => r.prefix === ANYCAST[afi])?.paths).toHaveLength(2);
        expect(routes.find((r) => r.prefix === own(2)[afi])).toBeDefined();
      }
    }
    await n1.setRoutes(nodeRoutes(1), KINDS.map(ebgpPeer));
    await Promise.all(KINDS.flatMap((k) => AFIS.map((afi) => waitForRoute(rs[k], afi, own(1)[afi], undefined, { timeoutMs: 30_000 }))));
  }, 90_000);

  it('drops node-2\'s routes at every router by hold timer when its link is cut, and relearns them after', async () => {
    const { lab: l, routers: rs, nodes: [, n2] } = E();
    if (n2 === undefined) throw new Error('node-2 missing');
    const n1v4 = addr('node-1', 'ipv4');
    const t0 = Date.now();
    await l.linkDown('node-2');
    let elapsed: Record<string, number> = {};
    try {
      const drops = await Promise.all(
        KINDS.map(async (k) => {
          await Promise.all(AFIS.map((afi) => waitForNoRoute(rs[k], afi, own(2)[afi], { timeoutMs: 30_000, intervalMs: 100 })));
          return [k, Date.now() - t0] as const;
        }),
      );
      elapsed = Object.fromEntries(drops);
      for (const k of KINDS) {
        for (const afi of AFIS) {
          const any = await waitForRoute(rs[k], afi, ANYCAST[afi], (r) => r.paths.length === 1, { timeoutMs: 10_000 });
          expect(any.nextHops).toEqual([addr('node-1', afi)]);
        }
        const n = (await rs[k].neighbors()).find((x) => x.address === addr('node-2', 'ipv4'));
        expect(n?.state).not.toBe('Established');
        // node-1 is untouched.
        expect((await rs[k].neighbors()).find((x) => x.address === n1v4)?.state).toBe('Established');
      }
    } finally {
      await l.linkUp('node-2');
    }
    process.stderr.write(`routers interop: link cut -> node-2's routes gone after ${JSON.stringify(elapsed)} ms (hold time ${HOLD_TIME_SEC} s)\n`);
    for (const ms of Object.values(elapsed)) {
      // No packet crosses a cut link, so only the hold timer can end the session: not at once,
      // and not much later than 3 s plus polling.
      expect(ms).toBeGreaterThanOrEqual(1_500);
      expect(ms).toBeLessThan(15_000);
    }
    await n2.waitEstablished(KINDS.map(ebgpPeer), 90_000);
    await Promise.all(KINDS.flatMap((k) => AFIS.map((afi) => waitForRoute(rs[k], afi, ANYCAST[afi], (r) => r.paths.length === 2, { timeoutMs: 60_000 }))));
  }, 180_000);
});

