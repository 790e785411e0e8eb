import type { V1Condition, V1LoadBalancerIngress, V1Service } from '@kubernetes/client-node';
import { formatIP, type IP } from '@herald/shared/ip';
import { ANN_ALLOCATED_FROM, CONDITION_ASSIGNED } from './model.js';

/** What the controller wants a Service's status to say. */
export interface DesiredStatus {
  /** undefined: leave ingress as it is (bad input never moves an IP). */
  readonly ips?: readonly IP[] | undefined;
  readonly pool?: string | undefined;
  /** undefined: remove our condition (the Service is no longer ours). */
  readonly condition?: { readonly status: 'True' | 'False'; readonly reason: string; readonly message: string } | undefined;
}

function sameIngress(a: readonly V1LoadBalancerIngress[], b: readonly V1LoadBalancerIngress[]): boolean {
  return a.length === b.length && a.every((x, i) => x.ip === b[i]?.ip && x.hostname === b[i]?.hostname && x.ipMode === b[i]?.ipMode);
}

/**
 * Applies `desired` to a copy of the Service; returns the copy, or undefined
 * when nothing would change (so no write is made). Keeps other controllers'
 * conditions, and our condition's lastTransitionTime while its status holds.
 */
export function applyStatus(svc: V1Service, desired: DesiredStatus, now: Date): V1Service | undefined {
  const curIngress = svc.status?.loadBalancer?.ingress ?? [];
  // ipMode VIP: traffic to the IP is delivered to the node as-is (KEP-1860).
  const ingress: V1LoadBalancerIngress[] = desired.ips === undefined ? curIngress : desired.ips.map((ip) => ({ ip: formatIP(ip), ipMode: 'VIP' }));
  const conditions = [...(svc.status?.conditions ?? [])];
  const idx = conditions.findIndex((c) => c.type === CONDITION_ASSIGNED);
  const cur = idx === -1 ? undefined : conditions[idx];
  let conditionChanged = false;
  if (desired.condition === undefined) {
    if (cur) {
      conditions.splice(idx, 1);
      conditionChanged = true;
    }
  } else {
    const d = desired.condition;
    if (!cur || cur.status !== d.status || cur.reason !== d.reason || cur.message !== d.message) {
      const next: V1Condition = {
        type: CONDITION_ASSIGNED,
        status: d.status,
        reason: d.reason,
        // metav1.Condition caps message at 32768 bytes.
        message: d.message.slice(0, 32_000),
        lastTransitionTime: cur && cur.status === d.status ? cur.lastTransitionTime : now,
        ...(svc.metadata?.generation === undefined ? {} : { observedGeneration: svc.metadata.generation }),
      };
      if (cur) conditions[idx] = next;
      else conditions.push(next);
      conditionChanged = true;
    }
  }
  const annotations = { ...(svc.metadata?.annotations ?? {}) };
  const curPool = annotations[ANN_ALLOCATED_FROM];
  const wantPool = desired.ips === undefined ? curPool : desired.pool;
  if (wantPool === undefined) delete annotations[ANN_ALLOCATED_FROM];
  else annotations[ANN_ALLOCATED_FROM] = wantPool;

  if (sameIngress(curIngress, ingress) && !conditionChanged && curPool === wantPool) return undefined;
  return {
    ...svc,
    metadata: { ...svc.metadata, annotations },
    status: {
      ...svc.status,
      loadBalancer: { ...svc.status?.loadBalancer, ingress },
      conditions,
    },
  };
}
