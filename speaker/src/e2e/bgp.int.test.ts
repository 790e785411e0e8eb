/**
 * BGP mode end to end: the real controller, two real speakers in lab nodes, and three real
 * routers (FRR, BIRD, GoBGP from Debian) each in its own namespace. Everything goes through
 * the real path: Kubernetes objects in, BGP on the wire, the routers' own tables out.
 *
 * Peering (our side AS 4200000001, a 4-octet ASN, RFC 6793):
 *   frr    AS 64512, eBGP. node-1: graceful restart (RFC 4724); node-2: BFD 100 ms x 3 and MD5.
 *   bird   AS 4200000001, iBGP (LOCAL_PREF is sent to internal peers only).
 *   gobgp  AS 64514, eBGP, configured with dynamicASN: external (the AS comes from its OPEN).
 * IPv6 routes ride the IPv4 sessions (dualStackAddressFamily, RFC 4760).
 * Root only (network namespaces); tears everything down even when a test fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor, waitForNeighbor, waitForNoRoute, waitForRoute, type LearnedRoute, type Router } from '@herald/lab';
import { GROUP, VERSION } from '@herald/shared/api';
import { Bed, startBed, until } from './bed.js';

const root = process.getuid?.() === 0;
const suite = root ? describe : describe.skip;

const OUR_ASN = 4_200_000_001;
const POOL = ['198.51.100.0/26', '2001:db8:100::/120'];
const AGG_POOL = '198.51.100.64/26';
const MD5 = 'herald-frr-md5';

interface StateObj {
  status?: { node?: string; peer?: string; bgpStatus?: string; bfdStatus?: string; prefixesSent?: number; lastError?: string; establishedSince?: string };
}

suite('speaker BGP mode with FRR, BIRD and GoBGP', () => {
  let bed: Bed;
  let frr: Router;
  let bird: Router;
  let gobgp: Router;
  const addr = (host: string, family: 4 | 6 = 4): string => (family === 4 ? bed.lab.host(host).ipv4 : bed.lab.host(host).ipv6);

  beforeAll(async () => {
    bed = await startBed({ nodes: 2, pool: POOL, advertisement: null, routers: ['frr', 'bird', 'gobgp'] });
    const n1 = addr('node-1');
    const n2 = addr('node-2');
    const fast = { rxMs: 100, txMs: 100, multiplier: 3 };
    [frr, bird, gobgp] = await Promise.all([
      bed.startRouter('frr', 'frr', {
        asn: 64512,
        routerId: addr('frr'),
        neighbors: [
          { address: n1, asn: OUR_ASN, gracefulRestart: true },
          { address: n2, asn: OUR_ASN, bfd: fast, password: MD5 },
        ],
      }),
      bed.startRouter('bird', 'bird', { asn: OUR_ASN, routerId: addr('bird'), neighbors: [n1, n2].map((address) => ({ address, asn: OUR_ASN })) }),
      bed.startRouter('gobgp', 'gobgp', { asn: 64514, routerId: addr('gobgp'), neighbors: [n1, n2].map((address) => ({ address, asn: OUR_ASN })) }),
    ]);
    for (const h of bed.lab.nodes) await bed.labelNode(h, { 'lab.herald.io/host': h });
    await bed.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: bed.ns,
      plural: 'ipaddresspools',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAddressPool', metadata: { name: 'agg' }, spec: { addresses: [AGG_POOL], autoAssign: false } },
    });
    await bed.core.createNamespacedSecret({ namespace: bed.ns, body: { metadata: { name: 'frr-md5' }, type: 'kubernetes.io/basic-auth', stringData: { password: MD5 } } });
    await bed.core.createNamespacedSecret({ namespace: bed.ns, body: { metadata: { name: 'frr-wrong' }, type: 'kubernetes.io/basic-auth', stringData: { password: 'not-the-password' } } });
    await bed.apply('BFDProfile', 'bfdprofiles', 'fast', { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 });
    await bed.apply('Community', 'communities', 'aliases', { communities: [{ name: 'gold', value: `large:${OUR_ASN}:7:7` }] });
    const common = { myASN: OUR_ASN, dualStackAddressFamily: true, connectTime: '2s' };
    const on = (h: string) => [{ matchLabels: { 'lab.herald.io/host': h } }];
    await bed.apply('BGPPeer', 'bgppeers', 'frr-1', { ...common, peerASN: 64512, peerAddress: addr('frr'), enableGracefulRestart: true, nodeSelectors: on('node-1') });
    await bed.apply('BGPPeer', 'bgppeers', 'frr-2', { ...common, peerASN: 64512, peerAddress: addr('frr'), bfdProfile: 'fast', passwordSecret: { name: 'frr-md5' }, nodeSelectors: on('node-2') });
    await bed.apply('BGPPeer', 'bgppeers', 'bird', { ...common, peerASN: OUR_ASN, peerAddress: addr('bird') });
    // dynamicASN: the AS is taken from GoBGP's OPEN.
    await bed.apply('BGPPeer', 'bgppeers', 'gobgp', { ...common, dynamicASN: 'external', peerAddress: addr('gobgp') });
    await bed.apply('BGPAdvertisement', 'bgpadvertisements', 'lab', { ipAddressPools: ['lab'], communities: ['64512:100', 'gold'], localPref: 250 });
    await bed.apply('BGPAdvertisement', 'bgpadvertisements', 'agg', { ipAddressPools: ['agg'], aggregationLength: 28 });
    await bed.startSpeakers();
  }, 120_000);

  afterAll(async () => {
    await bed?.destroy();
  }, 60_000);

  const states = async (): Promise<StateObj[]> => {
    const list = (await bed.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: bed.ns, plural: 'bgpsessionstates' })) as { items: StateObj[] };
    return list.items;
  };
  const stateOf = async (host: string, peerAddress: string): Promise<StateObj['status'] | undefined> =>
    (await states()).find((s) => s.status?.node === bed.nodeName(host) && s.status?.peer === peerAddress)?.status;
  const nextHopsAt = (r: LearnedRoute): string[] => [...new Set(r.paths.map((p) => p.nextHop))].sort();

  it('brings every session up, and reports it in BGPSessionState and metrics', async () => {
    for (const r of [frr, bird, gobgp]) {
      for (const h of bed.lab.nodes) await waitForNeighbor(r, addr(h), (n) => n.state === 'Established', { timeoutMs: 30_000 });
    }
    await until('4 BGPSessionStates per node... 3 peers each', async () => {
      const all = await states();
      const est = all.filter((s) => s.status?.bgpStatus === 'Established');
      return est.length === 6 ? est : undefined;
    }, 20_000);
    const frr2 = await until('BFD Up in node-2 BGPSessionState for FRR', async () => {
      const s = await stateOf('node-2', addr('frr'));
      return s?.bfdStatus === 'Up' ? s : undefined;
    });
    expect(frr2).toMatchObject({ bgpStatus: 'Established', bfdStatus: 'Up' });
    expect(Date.parse(frr2?.establishedSince ?? '')).toBeGreaterThan(0);
    expect((await stateOf('node-1', addr('gobgp')))?.bfdStatus).toBe('N/A');
    expect(await bed.metric('node-1', 'herald_bgp_session_up', { peer: 'gobgp' })).toBe(1);
    expect(await bed.metric('node-2', 'herald_bfd_session_up', { peer: 'frr-2' })).toBe(1);
  }, 60_000);

  it('eTP Cluster: every node announces IPv4 and IPv6, routers learn both next hops (ECMP), with communities and local preference', async () => {
    const svc = await bed.createService('web', { families: [4, 6], endpointsOn: ['node-1'] });
    const [v4, v6] = await bed.ips(svc, 2);
    const both4 = [addr('node-1'), addr('node-2')].sort();
    const both6 = [addr('node-1', 6), addr('node-2', 6)].sort();
    for (const r of [frr, bird, gobgp]) {
      const route4 = await waitForRoute(r, 'ipv4', `${v4}/32`, (x) => nextHopsAt(x).length === 2, { timeoutMs: 20_000 });
      expect(nextHopsAt(route4)).toEqual(both4);
      const route6 = await waitForRoute(r, 'ipv6', `${v6}/128`, (x) => nextHopsAt(x).length === 2, { timeoutMs: 20_000 });
      expect(nextHopsAt(route6)).toEqual(both6);
      // The large community came through the Community alias "gold".
      expect(route4.communities).toContain('64512:100');
      expect(route4.largeCommunities).toContain(`${OUR_ASN}:7:7`);
    }
    // FRR and BIRD forward over both (ECMP); GoBGP keeps both paths.
    expect((await waitForRoute(frr, 'ipv4', `${v4}/32`)).nextHops).toEqual(both4);
    expect((await waitForRoute(bird, 'ipv4', `${v4}/32`)).nextHops).toEqual(both4);
    expect((await waitForRoute(frr, 'ipv4', `${v4}/32`)).asPath).toEqual([OUR_ASN]);
    expect((await waitForRoute(gobgp, 'ipv4', `${v4}/32`)).asPath).toEqual([OUR_ASN]);
    // LOCAL_PREF reaches the iBGP peer only (RFC 4271 5.1.5).
    expect((await waitForRoute(bird, 'ipv4', `${v4}/32`)).localPref).toBe(250);

    const statuses = await until('a ServiceBGPStatus per node', async () => {
      const list = (await bed.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: bed.ns, plural: 'servicebgpstatuses' })) as { items: Array<{ status?: { node?: string; serviceName?: string; peers?: string[] } }> };
      const mine = list.items.filter((s) => s.status?.serviceName === svc);
      return mine.length === 2 ? mine : undefined;
    });
    expect(statuses.map((s) => s.status?.node).sort()).toEqual(bed.lab.nodes.map((h) => bed.nodeName(h)).sort());
    expect(statuses.find((s) => s.status?.node === bed.nodeName('node-1'))?.status?.peers).toEqual(['bird', 'frr-1', 'gobgp']);
    const events = await until('nodeAssigned events', async () => {
      const list = await bed.events.listNamespacedEvent({ namespace: bed.ns });
      const e = list.items.filter((x) => x.regarding?.name === svc && x.reason === 'nodeAssigned' && (x.note ?? '').includes('"bgp"'));
      return e.length === 2 ? e : undefined;
    });
    expect(events).toHaveLength(2);
  }, 90_000);

  it('eTP Local: only nodes with a ready local endpoint announce, and it follows the endpoint', async () => {
    const svc = await bed.createService('local', { etp: 'Local', endpointsOn: ['node-2'] });
    const [ip] = await bed.ips(svc);
    for (const r of [frr, bird, gobgp]) {
      const route = await waitForRoute(r, 'ipv4', `${ip}/32`, (x) => nextHopsAt(x).join() === addr('node-2'), { timeoutMs: 20_000 });
      expect(route.paths).toHaveLength(1);
    }
    await bed.setEndpoints(svc, ['node-1']);
    for (const r of [frr, bird, gobgp]) await waitForRoute(r, 'ipv4', `${ip}/32`, (x) => nextHopsAt(x).join() === addr('node-1'), { timeoutMs: 20_000 });
    await bed.setEndpoints(svc, []);
    for (const r of [frr, bird, gobgp]) await waitForNoRoute(r, 'ipv4', `${ip}/32`, { timeoutMs: 20_000 });
  }, 90_000);

  it('aggregates per BGPAdvertisement.aggregationLength, and withdraws when the Service goes', async () => {
    await bed.createService('agg', { pool: 'agg' });
    const [ip] = await bed.ips('agg');
    expect(Number(ip?.split('.')[3])).toBeGreaterThanOrEqual(64);
    const prefix = `198.51.100.${Number(ip?.split('.')[3]) & ~15}/28`;
    await waitForRoute(frr, 'ipv4', prefix, () => true, { timeoutMs: 20_000 });
    expect((await frr.routes('ipv4')).some((r) => r.prefix === `${ip}/32`)).toBe(false);
    await bed.core.deleteNamespacedService({ namespace: bed.ns, name: 'agg' });
    for (const r of [frr, bird, gobgp]) await waitForNoRoute(r, 'ipv4', prefix, { timeoutMs: 20_000 });
  }, 90_000);

  it('TCP MD5 (RFC 2385): a wrong password keeps the session down, the right one brings it back', async () => {
    const peer = (secret: string) => ({ myASN: OUR_ASN, dualStackAddressFamily: true, connectTime: '2s', peerASN: 64512, peerAddress: addr('frr'), bfdProfile: 'fast', passwordSecret: { name: secret }, nodeSelectors: [{ matchLabels: { 'lab.herald.io/host': 'node-2' } }] });
    await bed.apply('BGPPeer', 'bgppeers', 'frr-2', peer('frr-wrong'));
    await waitForNeighbor(frr, addr('node-2'), (n) => n.state !== 'Established', { timeoutMs: 20_000 });
    // Give it several connect attempts (connectTime 2s): it must stay down.
    await new Promise((r) => setTimeout(r, 6_000));
    expect((await frr.neighbors()).find((n) => n.address === addr('node-2'))?.state).not.toBe('Established');
    expect((await stateOf('node-2', addr('frr')))?.bgpStatus).not.toBe('Established');
    await bed.apply('BGPPeer', 'bgppeers', 'frr-2', peer('frr-md5'));
    await waitForNeighbor(frr, addr('node-2'), (n) => n.state === 'Established', { timeoutMs: 30_000 });
    // The password changed, BFD did not: BFD kept running through both BGP restarts, so FRR
    // never saw a BFD Down (it would have sent Cease/BFD Down, RFC 9384).
    expect(await bed.metric('node-2', 'herald_bgp_session_down_total', { peer: 'frr-2', reason: 'notificationReceived' })).toBe(0);
  }, 60_000);

  it('BFD (RFC 5880/5881): a link cut is detected in well under the hold time and FRR withdraws that next hop', async () => {
    const svc = await bed.createService('bfd', {});
    const [ip] = await bed.ips(svc);
    await waitForRoute(frr, 'ipv4', `${ip}/32`, (x) => nextHopsAt(x).length === 2, { timeoutMs: 20_000 });
    await waitForNeighbor(frr, addr('node-2'), (n) => n.bfd === 'Up' && n.state === 'Established', { timeoutMs: 20_000 });
    // Both ends must see BFD Up on this very session before the cut.
    await until('Established with BFD Up on our side', async () => {
      const st = await stateOf('node-2', addr('frr'));
      return st?.bfdStatus === 'Up' && st.bgpStatus === 'Established' ? true : undefined;
    }, 20_000);
    const cut = Date.now();
    await bed.lab.linkDown('node-2');
    try {
      await waitForRoute(frr, 'ipv4', `${ip}/32`, (x) => nextHopsAt(x).join() === addr('node-1'), { timeoutMs: 20_000, intervalMs: 20 });
      const took = Date.now() - cut;
      // Hold time is 90 s; BFD detects in 3 x 100 ms. Generous bound for a loaded machine.
      expect(took).toBeLessThan(5_000);
      // Our end detects it too, with the link still down (no NOTIFICATION can reach us), and
      // takes BGP down at once (RFC 5882 §3.2).
      const down = await until('our session down by BFD', async () => {
        const st = await stateOf('node-2', addr('frr'));
        return st?.bgpStatus !== 'Established' ? st : undefined;
      }, 5_000);
      expect(down?.bfdStatus).toBe('Down');
      expect(down?.lastError).toMatch(/bfdDown/);
    } finally {
      await bed.lab.linkUp('node-2');
    }
    await waitForNeighbor(frr, addr('node-2'), (n) => n.state === 'Established', { timeoutMs: 40_000 });
    await waitForRoute(frr, 'ipv4', `${ip}/32`, (x) => nextHopsAt(x).length === 2, { timeoutMs: 20_000 });
    // Our side took BGP down on BFD Down too (RFC 5882), and counted why.
    expect(await bed.metric('node-2', 'herald_bgp_session_down_total', { peer: 'frr-2', reason: 'bfdDown' })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('graceful restart (RFC 4724): FRR keeps node-1 routes across a speaker crash and restart', async () => {
    const svc = await bed.createService('gr', {});
    const [ip] = await bed.ips(svc);
    await waitForRoute(frr, 'ipv4', `${ip}/32`, (x) => nextHopsAt(x).length === 2, { timeoutMs: 20_000 });
    await bed.stopSpeaker('node-1', 'SIGKILL');
    const start = bed.startSpeaker('node-1');
    let sawStale = false;
    let missing = 0;
    const deadline = Date.now() + 30_000;
    // Watch until the restarted speaker's route is fresh again (End-of-RIB cleared stale).
    for (;;) {
      const r = (await frr.routes('ipv4')).find((x) => x.prefix === `${ip}/32`);
      const p1 = r?.paths.find((p) => p.nextHop === addr('node-1'));
      if (p1 === undefined) missing++;
      if (p1?.stale) sawStale = true;
      if (sawStale && p1 !== undefined && !p1.stale) break;
      if (Date.now() > deadline) throw new Error(`node-1 path never came back fresh (sawStale ${sawStale}, missing ${missing})`);
      await new Promise((res) => setTimeout(res, 50));
    }
    await start;
    expect(sawStale).toBe(true);
    expect(missing).toBe(0);
  }, 90_000);

  it('SIGTERM: graceful shutdown (RFC 8326) marks routes GRACEFUL_SHUTDOWN before withdrawing them', async () => {
    const svc = await bed.createService('gshut', {});
    const [ip] = await bed.ips(svc);
    await waitForRoute(gobgp, 'ipv4', `${ip}/32`, (x) => x.paths.length === 2, { timeoutMs: 20_000 });
    const stopped = bed.stopSpeaker('node-2', 'SIGTERM');
    const marked = await waitFor(
      'node-2 path with GRACEFUL_SHUTDOWN at GoBGP',
      async () => {
        const r = (await gobgp.routes('ipv4')).find((x) => x.prefix === `${ip}/32`);
        return r?.paths.find((p) => p.nextHop === addr('node-2') && p.communities.includes('65535:0'));
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(marked.communities).toContain('65535:0');
    await waitForRoute(gobgp, 'ipv4', `${ip}/32`, (x) => nextHopsAt(x).join() === addr('node-1'), { timeoutMs: 15_000 });
    expect(await stopped).toBe(0);
    await until('node-2 BGPSessionStates removed', async () => ((await states()).some((s) => s.status?.node === bed.nodeName('node-2')) ? undefined : true));
  }, 60_000);
});
