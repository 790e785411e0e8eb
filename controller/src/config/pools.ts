/**
 * The allocator's view of the pools, from the one configuration model in `@herald/shared/config`
 * (the speakers and the CLI build theirs from the same function, so every component runs the
 * same pools, last good versions included).
 * @packageDocumentation
 */
import { buildConfig, type LastGood, type ObjectVerdict, type PoolInForce, type RawConfigObject } from '@herald/shared/config';
import type { PoolModel } from '../allocator/index.js';

/** A pool object as read from the API (untrusted until parsed). */
export type RawPool = RawConfigObject;

/** The verdict on one pool, for its `Valid` condition. */
export type PoolVerdict = ObjectVerdict;

export interface PoolConfig {
  /** Pools for the allocator: valid ones, plus frozen last-valid versions of invalid ones. */
  readonly pools: PoolModel[];
  /** Why each invalid pool is invalid. */
  readonly invalid: Map<string, string>;
  readonly verdicts: readonly PoolVerdict[];
  /** Last good versions, to carry into the next build. */
  readonly lastGood: LastGood;
}

function toModel(p: PoolInForce): PoolModel {
  const spec = p.pool.spec;
  const a = spec.serviceAllocation;
  return {
    name: p.pool.metadata.name ?? '',
    ranges: [...p.ranges],
    autoAssign: spec.autoAssign,
    avoidBuggyIPs: spec.avoidBuggyIPs,
    ...(p.frozen ? { frozen: true } : {}),
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
 * Turns the IPAddressPool objects into the allocator's pool set. Pure. A pool whose spec does
 * not parse, or that overlaps an older pool, is invalid and not used for new IPs; if it had a
 * valid version before, that version is kept frozen so IPs it already gave out never move
 * because of a bad edit.
 */
export function buildPoolConfig(raw: readonly RawPool[], previousGood: LastGood): PoolConfig {
  const c = buildConfig({ IPAddressPool: raw }, previousGood);
  const invalid = new Map<string, string>();
  for (const v of c.verdicts) if (!v.valid) invalid.set(v.name, v.message);
  return { pools: c.pools.map(toModel), invalid, verdicts: c.verdicts, lastGood: c.lastGood };
}
