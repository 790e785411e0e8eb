import { IPAddressPoolSchema, type IPAddressPool } from '@herald/shared/api';
import { formatRange, isAddressParseError, parsePoolAddress, rangesOverlap, type IPRange } from '@herald/shared/ip';
import type { PoolModel } from '../allocator/index.js';

/** A pool object as read from the API (untrusted until parsed). */
export interface RawPool {
  readonly metadata?: { readonly name?: string; readonly uid?: string; readonly creationTimestamp?: Date | string; readonly generation?: number } | undefined;
  readonly spec?: unknown;
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly reason?: string }[] } | undefined;
}

/** The verdict on one pool, for its `Valid` condition. */
export interface PoolVerdict {
  readonly name: string;
  readonly valid: boolean;
  readonly reason: 'Valid' | 'InvalidSpec' | 'Overlap';
  readonly message: string;
  readonly generation?: number | undefined;
}

export interface PoolConfig {
  /** Pools for the allocator: valid ones, plus frozen last-valid versions of invalid ones. */
  readonly pools: PoolModel[];
  /** Why each invalid pool is invalid. */
  readonly invalid: Map<string, string>;
  readonly verdicts: PoolVerdict[];
  /** Last valid model per pool name, to carry into the next build. */
  readonly lastGood: Map<string, PoolModel>;
}

const created = (p: RawPool): string => {
  const t = p.metadata?.creationTimestamp;
  return t instanceof Date ? t.toISOString() : (t ?? '');
};

function toModel(name: string, spec: IPAddressPool['spec']): PoolModel | string {
  const ranges: IPRange[] = [];
  for (const entry of spec.addresses) {
    const r = parsePoolAddress(entry);
    if (isAddressParseError(r)) return r.message;
    ranges.push(r);
  }
  const a = spec.serviceAllocation;
  return {
    name,
    ranges,
    autoAssign: spec.autoAssign,
    avoidBuggyIPs: spec.avoidBuggyIPs,
    ...(a
      ? {
          allocation: {
            ...(a.priority === undefined ? {} : { priority: a.priority }),
            namespaces: a.namespaces ?? [],
            namespaceSelectors: a.namespaceSelectors ?? [],
            serviceSelectors: a.serviceSelectors ?? [],
          },
        }
      : {}),
  };
}

/**
 * Turns the IPAddressPool objects of the controller's namespace into the
 * allocator's pool set. Pure. A pool whose spec does not parse, or that
 * overlaps an older pool (older by creationTimestamp, then name), is invalid
 * and not used for new IPs; if it had a valid version before, that version is
 * kept frozen so IPs it already gave out never move because of a bad edit.
 */
export function buildPoolConfig(raw: readonly RawPool[], previousGood: ReadonlyMap<string, PoolModel>): PoolConfig {
  // Who wins an overlap must not flip: a pool that was valid keeps winning, one whose
  // status already says it lost keeps losing (across restarts too), and only then does
  // age decide. creationTimestamp has 1 s resolution, so name breaks the last ties.
  const rank = (p: RawPool): number => {
    if (previousGood.has(p.metadata?.name ?? '')) return 0;
    const lost = p.status?.conditions?.some((c) => c.type === 'Valid' && c.status === 'False' && c.reason === 'Overlap');
    return lost ? 2 : 1;
  };
  const ordered = [...raw].sort((a, b) => rank(a) - rank(b) || created(a).localeCompare(created(b)) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const accepted: PoolModel[] = [];
  const invalid = new Map<string, string>();
  const verdicts: PoolVerdict[] = [];
  const lastGood = new Map<string, PoolModel>();
  for (const obj of ordered) {
    const name = obj.metadata?.name;
    if (!name) continue;
    const generation = obj.metadata?.generation;
    const fail = (reason: 'InvalidSpec' | 'Overlap', message: string): void => {
      invalid.set(name, message);
      verdicts.push({ name, valid: false, reason, message, generation });
    };
    const parsed = IPAddressPoolSchema.shape.spec.safeParse(obj.spec);
    if (!parsed.success) {
      fail('InvalidSpec', parsed.error.issues.map((i) => `${['spec', ...i.path].join('.')}: ${i.message}`).join('; '));
      continue;
    }
    const model = toModel(name, parsed.data);
    if (typeof model === 'string') {
      fail('InvalidSpec', `spec.addresses: ${model}`);
      continue;
    }
    const clash = findOverlap(model, accepted);
    if (clash) {
      fail('Overlap', clash);
      continue;
    }
    accepted.push(model);
    lastGood.set(name, model);
    verdicts.push({ name, valid: true, reason: 'Valid', message: `${model.ranges.length} address range(s) in use`, generation });
  }
  const frozen: PoolModel[] = [];
  for (const name of invalid.keys()) {
    const prev = previousGood.get(name);
    if (prev) {
      frozen.push({ ...prev, frozen: true });
      lastGood.set(name, prev);
    }
  }
  return { pools: [...accepted, ...frozen], invalid, verdicts, lastGood };
}

function findOverlap(p: PoolModel, accepted: readonly PoolModel[]): string | undefined {
  for (const q of accepted) {
    for (const a of p.ranges) {
      for (const b of q.ranges) {
        if (rangesOverlap(a, b)) {
          return `${formatRange(a)} overlaps ${formatRange(b)} of pool ${q.name}, which was there first; this pool is not used until the overlap is removed`;
        }
      }
    }
  }
  return undefined;
}
