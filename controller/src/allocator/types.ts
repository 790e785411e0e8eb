import type { Family, IP, IPRange } from '@herald/shared/ip';
import type { LabelSelector, Labels } from '@herald/shared/labels';

/** A pool as the allocator sees it: validated, addresses parsed, in listed order. */
export interface PoolModel {
  readonly name: string;
  readonly ranges: readonly IPRange[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly allocation?: ServiceAllocation | undefined;
  /**
   * The pool's current spec is invalid; this is its last valid version, kept
   * only so that IPs already assigned from it stay put. Never used for new IPs.
   */
  readonly frozen?: boolean | undefined;
}

/** IPAddressPool.spec.serviceAllocation: every field that is set must match. */
export interface ServiceAllocation {
  readonly priority?: number | undefined;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** What a Service needs to know to share an IP with another (herald.io/allow-shared-ip). */
export interface SharingInfo {
  /** The sharing key; a Service without one shares with nobody. */
  readonly key?: string | undefined;
  /** `PROTOCOL/port` of every port the Service exposes. */
  readonly ports: readonly string[];
  /** externalTrafficPolicy: Local. */
  readonly local: boolean;
  /** Canonical text of spec.selector: Services with Local traffic must select the same pods. */
  readonly selector: string;
}

/** Everything the allocator needs from a Service, already parsed and validated. */
export interface ServiceRequest {
  /** `namespace/name` */
  readonly key: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly namespaceLabels: Labels;
  /** spec.ipFamilies in order (the first is the primary family). */
  readonly families: readonly Family[];
  readonly policy: IPFamilyPolicy;
  /** spec.loadBalancerIP or the loadBalancerIPs annotation: at most one per family. */
  readonly requestedIPs: readonly IP[];
  /** The address-pool annotation. */
  readonly pool?: string | undefined;
  readonly sharing: SharingInfo;
}

export interface Assignment {
  readonly pool: string;
  readonly ips: readonly IP[];
}

export type FailureReason = 'PoolExhausted' | 'NoMatchingPool' | 'RequestedIPInUse' | 'SharingConflict' | 'InvalidRequest';

/** Why one pool was or was not used: the raw material of `herald explain`. */
export interface PoolVerdict {
  readonly pool: string;
  readonly verdict: 'chosen' | 'notAdmitted' | 'autoAssignOff' | 'exhausted' | 'lacksFamily' | 'notRequested' | 'frozen';
  readonly detail: string;
}

export type Decision =
  | {
      readonly ok: true;
      readonly assignment: Assignment;
      /** Kept: nothing changed. Allocated: the Service had nothing. Moved: it had other IPs. */
      readonly action: 'Kept' | 'Allocated' | 'Moved';
      /** With Moved: why the old IPs could not stay. */
      readonly moveReason?: string;
      readonly previous?: Assignment;
      /**
       * With Kept: no pool contains the IPs any more; they stay for this long (the
       * orphan grace) in case a pool that contains them appears, then move.
       */
      readonly releaseInMs?: number;
      readonly considered: readonly PoolVerdict[];
    }
  | {
      readonly ok: false;
      readonly reason: FailureReason;
      readonly message: string;
      /** IPs the Service held before and no longer does (its request changed and cannot be met). */
      readonly released?: Assignment;
      /** With released: why the old IPs could not stay. */
      readonly releaseReason?: string;
      readonly considered: readonly PoolVerdict[];
    };

/** Exact per-family counts for a pool's status. */
export interface PoolStats {
  readonly total: Readonly<Record<Family, bigint>>;
  readonly assigned: Readonly<Record<Family, bigint>>;
}
