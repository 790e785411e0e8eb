/**
 * The pure half of the controller-churn fault: which Services it creates, the test's own
 * oracle for which Services may share an IP (written from MetalLB's documented rules, not
 * taken from the controller), and the watch log that proves no IP ever changed.
 */
import type { V1Service } from '@kubernetes/client-node';

export const SHARING_ANNOTATION = 'herald.io/allow-shared-ip';

/** The one pool the controller allocates from: 2048 IPv4 and 65536 IPv6 addresses (dual-stack Services need both in one pool). */
export const CHURN_POOL = ['10.40.0.0/21', '2001:db8:40::/112'] as const;

export type Family = 'IPv4' | 'IPv6';

/**
 * Service `i` of the mix, a deterministic function of `i` over a cycle of 20:
 * - 1, 6, 11, 16: IPv6 single-stack; 2, 12: dual-stack (RequireDualStack);
 * - 3/4, 13/14: pairs with one sharing key and different ports: they may share an IP;
 * - 7/8: a pair with one sharing key and the same port: they may not;
 * - the rest: IPv4 single-stack, port 80, no key.
 */
export function churnService(i: number, lbClass: string): V1Service {
  const r = i % 20;
  let families: Family[] = ['IPv4'];
  let port = 80;
  let key: string | undefined;
  if (r % 5 === 1) families = ['IPv6'];
  else if (r === 2 || r === 12) families = ['IPv4', 'IPv6'];
  else if (r === 3 || r === 4 || r === 13 || r === 14) {
    key = `ok-${Math.floor(i / 10)}`;
    port = r % 10 === 3 ? 80 : 443;
  } else if (r === 7 || r === 8) {
    key = `clash-${Math.floor(i / 20)}`;
  }
  const name = `svc-${String(i).padStart(4, '0')}`;
  return {
    metadata: { name, ...(key !== undefined ? { annotations: { [SHARING_ANNOTATION]: key } } : {}) },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: lbClass,
      allocateLoadBalancerNodePorts: false,
      ipFamilies: families,
      ipFamilyPolicy: families.length === 2 ? 'RequireDualStack' : 'SingleStack',
      ports: [{ name: 'p', port, protocol: 'TCP' }],
      selector: { app: name },
    },
  };
}

/** What the sharing rules look at. */
export interface ShareView {
  readonly key: string | undefined;
  /** `PROTOCOL/port` of each port. */
  readonly ports: readonly string[];
  readonly local: boolean;
  /** spec.selector as sorted-key JSON. */
  readonly selector: string;
}

export function shareView(svc: V1Service): ShareView {
  const key = svc.metadata?.annotations?.[SHARING_ANNOTATION]?.trim();
  const sel = svc.spec?.selector ?? {};
  return {
    key: key === undefined || key === '' ? undefined : key,
    ports: (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`),
    local: svc.spec?.externalTrafficPolicy === 'Local',
    selector: JSON.stringify(Object.fromEntries(Object.keys(sel).sort().map((k) => [k, sel[k]]))),
  };
}

/**
 * Whether two Services may hold the same IP (MetalLB's rules, which Herald documents as its
 * own): the same non-empty sharing key, no protocol/port in common, and when either uses
 * externalTrafficPolicy Local, the same pod selector.
 */
export function mayShare(a: ShareView, b: ShareView): boolean {
  if (a.key === undefined || a.key !== b.key) return false;
  if (a.ports.some((p) => b.ports.includes(p))) return false;
  return !((a.local || b.local) && a.selector !== b.selector);
}

/** The IPs in a Service's status, in order. */
export function statusIPs(svc: V1Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');
}

/** One IP change seen for one Service: a value replaced or cleared after it was set. */
export interface IPChange {
  readonly service: string;
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly at: number;
  readonly via: 'watch' | 'relist';
}

/**
 * Every value of `status.loadBalancer.ingress` each Service was seen with, in order,
 * from a watch that started before the first Service (and relists whenever the watch
 * broke). A Service's IPs may be set once; any later different value, empty included,
 * is a change.
 */
export class IngressLog {
  readonly #last = new Map<string, readonly string[]>();
  readonly #first = new Map<string, readonly string[]>();
  readonly changes: IPChange[] = [];
  /** When each Service was first seen with IPs. */
  readonly assignedAt: number[] = [];
  /** Ingress values recorded (first assignments and changes). */
  updates = 0;
  lastUpdateAt = 0;

  record(service: string, ips: readonly string[], at: number, via: 'watch' | 'relist'): void {
    const prev = this.#last.get(service) ?? [];
    if (same(prev, ips)) return;
    this.updates++;
    this.lastUpdateAt = at;
    this.#last.set(service, [...ips]);
    // Once set, any other value is a change: a replacement, a clear, or a new value after a clear.
    if (this.#first.has(service)) this.changes.push({ service, from: prev, to: [...ips], at, via });
    else {
      this.#first.set(service, [...ips]);
      this.assignedAt.push(at);
    }
  }

  /** The first IPs the Service was seen with, if any. */
  first(service: string): readonly string[] | undefined {
    return this.#first.get(service);
  }

  get services(): number {
    return this.#first.size;
  }
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** IPs held by Services that may not share them: `ip -> holders` for each offending IP. */
export function illegalSharing(services: readonly V1Service[]): Record<string, string[]> {
  const holders = new Map<string, V1Service[]>();
  for (const s of services) {
    for (const ip of statusIPs(s)) holders.set(ip, [...(holders.get(ip) ?? []), s]);
  }
  const bad: Record<string, string[]> = {};
  for (const [ip, list] of holders) {
    if (list.length < 2) continue;
    const views = list.map(shareView);
    const ok = views.every((a, i) => views.every((b, j) => i === j || mayShare(a, b)));
    if (!ok) bad[ip] = list.map((s) => s.metadata?.name ?? '');
  }
  return bad;
}

/** Why a Service's IPs are not exactly what it asked for (one per family, from the pools), or undefined. */
export function wrongIPs(svc: V1Service): string | undefined {
  const ips = statusIPs(svc);
  const want = svc.spec?.ipFamilies ?? ['IPv4'];
  if (ips.length !== want.length) return `has ${JSON.stringify(ips)}, wants one IP per family of ${JSON.stringify(want)}`;
  const got = ips.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4')).sort();
  if (JSON.stringify(got) !== JSON.stringify([...want].sort())) return `has ${JSON.stringify(ips)}, wants families ${JSON.stringify(want)}`;
  const outside = ips.filter((ip) => !inPools(ip));
  if (outside.length > 0) return `${JSON.stringify(outside)} outside the pools`;
  return undefined;
}

function inPools(ip: string): boolean {
  if (ip.includes(':')) return ip.startsWith('2001:db8:40::');
  const o = ip.split('.').map(Number);
  return o[0] === 10 && o[1] === 40 && (o[2] ?? 99) < 8;
}

/**
 * How many first assignments the watch saw while each controller process ran (by its
 * start time), so the report shows the kills landed while the controller was working.
 */
export function assignmentsPerInstance(spawnedAt: readonly number[], assignedAt: readonly number[]): number[] {
  const per = spawnedAt.map(() => 0);
  for (const t of assignedAt) {
    let i = -1;
    while (i + 1 < spawnedAt.length && (spawnedAt[i + 1] ?? Infinity) <= t) i++;
    if (i >= 0) per[i] = (per[i] ?? 0) + 1;
  }
  return per;
}
