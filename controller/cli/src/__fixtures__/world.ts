/**
 * Builders for the objects the CLI reads, as the API server returns them, for unit tests.
 * Not part of the build.
 */
import type { EventsV1Event, V1EndpointSlice, V1Lease, V1Node, V1Service, V1ServiceSpec } from '@kubernetes/client-node';
import type { ExplainInput } from '../explain.js';

export const NS = 'herald-system';
export const NOW = Date.parse('2025-06-01T12:00:00Z');

export function pool(name: string, spec: Record<string, unknown>, status?: Record<string, unknown>, created = '2025-01-01T00:00:00Z'): Record<string, unknown> {
  return { apiVersion: 'herald.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: NS, creationTimestamp: created, labels: { pool: name } }, spec, ...(status ? { status } : {}) };
}

export function l2Ad(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'herald.io/v1beta1', kind: 'L2Advertisement', metadata: { name, namespace: NS }, spec };
}

export function bgpAd(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'herald.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name, namespace: NS }, spec };
}

export function bgpPeer(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'herald.io/v1beta1', kind: 'BGPPeer', metadata: { name, namespace: NS }, spec };
}

export function service(
  ns: string,
  name: string,
  opts: { ips?: string[]; pool?: string; annotations?: Record<string, string>; spec?: Partial<V1ServiceSpec>; created?: string; condition?: { status: string; reason: string; message: string } } = {},
): V1Service {
  const annotations: Record<string, string> = { ...(opts.annotations ?? {}) };
  if (opts.pool !== undefined) annotations['herald.io/ip-allocated-from-pool'] = opts.pool;
  return {
    metadata: { namespace: ns, name, annotations, creationTimestamp: new Date(opts.created ?? '2025-02-01T00:00:00Z') },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name }, ...opts.spec },
    status: {
      loadBalancer: { ingress: (opts.ips ?? []).map((ip) => ({ ip, ipMode: 'VIP' })) },
      ...(opts.condition ? { conditions: [{ type: 'herald.io/AddressAssigned', lastTransitionTime: new Date(NOW - 60_000), ...opts.condition }] } : {}),
    },
  };
}

export function node(name: string, labels: Record<string, string> = {}): V1Node {
  return { metadata: { name, labels } };
}

/** A speaker Lease renewed `agoMs` before NOW, valid for `durationS`. */
export function lease(nodeName: string, agoMs = 1_000, durationS = 10): V1Lease {
  return {
    metadata: { name: `herald-speaker-${nodeName}`, namespace: NS, labels: { 'app.kubernetes.io/component': 'herald-speaker' }, annotations: { 'herald.io/node': nodeName } },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationS, renewTime: new Date(NOW - agoMs) },
  };
}

/** One ready endpoint per node given. */
export function slice(ns: string, svc: string, nodes: string[]): V1EndpointSlice {
  return {
    addressType: 'IPv4',
    metadata: { namespace: ns, name: `${svc}-x`, labels: { 'kubernetes.io/service-name': svc } },
    endpoints: nodes.map((n, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: n, conditions: { ready: true } })),
  };
}

export function l2Status(ns: string, svc: string, nodeName: string, interfaces: string[] = []): Record<string, unknown> {
  return {
    apiVersion: 'herald.io/v1beta1',
    kind: 'ServiceL2Status',
    metadata: { name: `l2-${svc}-${nodeName}`, namespace: NS, labels: { 'herald.io/node': nodeName, 'herald.io/service-name': svc, 'herald.io/service-namespace': ns } },
    status: { node: nodeName, serviceName: svc, serviceNamespace: ns, interfaces: interfaces.map((n) => ({ name: n })) },
  };
}

export function bgpStatus(ns: string, svc: string, nodeName: string, peers: string[]): Record<string, unknown> {
  return {
    apiVersion: 'herald.io/v1beta1',
    kind: 'ServiceBGPStatus',
    metadata: { name: `bgp-${svc}-${nodeName}`, namespace: NS, labels: { 'herald.io/node': nodeName, 'herald.io/service-name': svc, 'herald.io/service-namespace': ns } },
    status: { node: nodeName, serviceName: svc, serviceNamespace: ns, peers },
  };
}

export function session(nodeName: string, peer: string, address: string, status: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'herald.io/v1beta1',
    kind: 'BGPSessionState',
    metadata: { name: `bgp-${nodeName}-${peer}`, namespace: NS, labels: { 'herald.io/node': nodeName, 'herald.io/peer': peer } },
    status: { node: nodeName, peer: address, ...status },
  };
}

export function event(reason: string, note: string, at: number, type = 'Normal'): EventsV1Event {
  return { metadata: { name: `e-${reason}-${at}` }, eventTime: new Date(at) as never, reason, note, type, reportingController: 'herald.io/herald-controller' };
}

/** An ExplainInput with nothing in it but `svc`; override what a test needs. */
export function world(svc: V1Service, over: Partial<ExplainInput> = {}): ExplainInput {
  return {
    namespace: NS,
    service: svc,
    namespaceLabels: {},
    services: [svc],
    pools: [],
    l2Advertisements: [],
    bgpAdvertisements: [],
    bgpPeers: [],
    bfdProfiles: [],
    communities: [],
    nodes: [],
    endpointSlices: [],
    leases: [],
    statusObjects: { l2: [], bgp: [], sessions: [] },
    events: [],
    now: NOW,
    ...over,
  };
}
