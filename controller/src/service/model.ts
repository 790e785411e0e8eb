import type { V1Service } from '@kubernetes/client-node';
import { formatIP, parseIP, type Family, type IP } from '@herald/shared/ip';
import type { Labels } from '@herald/shared/labels';
import type { IPFamilyPolicy, ServiceRequest } from '../allocator/index.js';

/**
 * Annotation suffixes Herald reads. Each is read under `herald.io/` first, then
 * MetalLB's `metallb.io/` and `metallb.universe.tf/`, so MetalLB users'
 * Services work unchanged; ours win when both are set.
 */
export const ANNOTATION_PREFIXES = ['herald.io/', 'metallb.io/', 'metallb.universe.tf/'] as const;
export const ANN_POOL = 'address-pool';
export const ANN_IPS = 'loadBalancerIPs';
export const ANN_SHARING = 'allow-shared-ip';
/** Written by the controller: the pool the Service's IPs came from. */
export const ANN_ALLOCATED_FROM = 'herald.io/ip-allocated-from-pool';
/** The Service condition the controller owns. */
export const CONDITION_ASSIGNED = 'herald.io/AddressAssigned';

/** Reads an annotation by suffix, Herald's own first; returns which key it came from. */
export function annotation(svc: V1Service, suffix: string): { key: string; value: string } | undefined {
  const anns = svc.metadata?.annotations ?? {};
  for (const prefix of ANNOTATION_PREFIXES) {
    const value = anns[prefix + suffix];
    if (value !== undefined) return { key: prefix + suffix, value };
  }
  return undefined;
}

/** Whether this controller handles the Service at all, and why not. */
export function handles(svc: V1Service, lbClass: string | undefined): { ok: true } | { ok: false; reason: 'NotLoadBalancer' | 'OtherLoadBalancerClass' } {
  if (svc.spec?.type !== 'LoadBalancer') return { ok: false, reason: 'NotLoadBalancer' };
  const cls = svc.spec.loadBalancerClass;
  // Without --lb-class, a Service that names any class belongs to someone else (KEP-1959).
  if (lbClass === undefined ? cls !== undefined && cls !== null : cls !== lbClass) return { ok: false, reason: 'OtherLoadBalancerClass' };
  return { ok: true };
}

export function serviceKey(svc: V1Service): string {
  return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

const FAMILY: Record<string, Family> = { IPv4: 4, IPv6: 6 };
const POLICIES: readonly IPFamilyPolicy[] = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];

/** Sorted-key JSON, so two equal selectors have equal text. */
function canonicalSelector(sel: Record<string, string> | undefined): string {
  const s = sel ?? {};
  return JSON.stringify(Object.fromEntries(Object.keys(s).sort().map((k) => [k, s[k]])));
}

export type ModelResult = { ok: true; request: ServiceRequest } | { ok: false; reason: 'InvalidRequest'; message: string };

function parseRequestedIPs(svc: V1Service): IP[] | string {
  const ann = annotation(svc, ANN_IPS);
  const field = svc.spec?.loadBalancerIP;
  const out: IP[] = [];
  if (ann) {
    for (const part of ann.value.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const ip = parseIP(part);
      if (!ip) return `annotation ${ann.key}: "${part}" is not an IP address`;
      out.push(ip);
    }
    if (out.length === 0) return `annotation ${ann.key} is empty`;
    if (out.length > 2 || (out.length === 2 && out[0]?.family === out[1]?.family)) {
      return `annotation ${ann.key} takes at most one IP per family, got "${ann.value}"`;
    }
    if (field) {
      const f = parseIP(field);
      if (!f || !out.some((ip) => formatIP(ip) === formatIP(f))) {
        return `spec.loadBalancerIP ${field} disagrees with annotation ${ann.key} (${ann.value}); set only the annotation`;
      }
    }
    return out;
  }
  if (field) {
    const ip = parseIP(field.trim());
    if (!ip) return `spec.loadBalancerIP: "${field}" is not an IP address`;
    out.push(ip);
  }
  return out;
}

/**
 * Turns a Service (and its namespace's labels) into the allocator's request,
 * or says exactly which field or annotation is malformed. Pure.
 */
export function serviceRequest(svc: V1Service, namespaceLabels: Labels): ModelResult {
  const bad = (message: string): ModelResult => ({ ok: false, reason: 'InvalidRequest', message });
  const requested = parseRequestedIPs(svc);
  if (typeof requested === 'string') return bad(requested);

  const families: Family[] = [];
  for (const f of svc.spec?.ipFamilies ?? ['IPv4']) {
    const fam = FAMILY[f];
    if (fam === undefined) return bad(`spec.ipFamilies: unknown family ${f}`);
    families.push(fam);
  }
  if (families.length === 0) families.push(requested[0]?.family ?? 4);
  const policyText = svc.spec?.ipFamilyPolicy ?? 'SingleStack';
  const policy = POLICIES.find((p) => p === policyText);
  if (!policy) return bad(`spec.ipFamilyPolicy: unknown policy ${policyText}`);

  const pool = annotation(svc, ANN_POOL);
  if (pool && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(pool.value.trim())) {
    return bad(`annotation ${pool.key}: "${pool.value}" is not a valid pool name`);
  }
  const sharing = annotation(svc, ANN_SHARING);
  if (sharing && sharing.value.trim() === '') return bad(`annotation ${sharing.key} is empty; remove it or give a sharing key`);

  const ports = (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`);
  const request: ServiceRequest = {
    key: serviceKey(svc),
    namespace: svc.metadata?.namespace ?? '',
    labels: svc.metadata?.labels ?? {},
    namespaceLabels,
    families,
    policy,
    requestedIPs: requested,
    ...(pool ? { pool: pool.value.trim() } : {}),
    sharing: {
      ...(sharing ? { key: sharing.value.trim() } : {}),
      ports,
      local: svc.spec?.externalTrafficPolicy === 'Local',
      selector: canonicalSelector(svc.spec?.selector),
    },
  };
  return { ok: true, request };
}

/** The IPs a Service's status says it has (what a restart restores). */
export function statusIPs(svc: V1Service): IP[] {
  const out: IP[] = [];
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    const ip = ing.ip ? parseIP(ing.ip) : undefined;
    if (ip) out.push(ip);
  }
  return out;
}
