/**
 * One configuration model for every Herald binary: a pure function from the herald.io
 * configuration objects (as read from the API server, untrusted) to the configuration that
 * runs, used alike by the controller, both speaker modes and the CLI, so that what one
 * component runs is what the others run (MetalLB's habit: one `config.For` for all).
 *
 * Better than MetalLB on one point: an edit that the API server accepts but this model
 * rejects (CEL cannot order IPs, so `192.0.2.130-192.0.2.120` passes admission) never takes
 * anything off the network. Each object keeps its last good version in force, everywhere,
 * and its verdict says why the new one was refused and what is kept instead. Before this,
 * the controller kept a broken pool's last good version while both speaker halves dropped
 * the pool, so a typo withdrew a serving IP.
 *
 * The last good versions live in the caller's memory ({@link ConfigTracker}); a process that
 * starts while an object is invalid has none for it (see docs/adr/0009-configuration-model.md).
 * @packageDocumentation
 */
import {
  BFDProfileSchema,
  BGPAdvertisementSchema,
  BGPPeerSchema,
  CommunitySchema,
  IPAddressPoolSchema,
  L2AdvertisementSchema,
  poolEntryRange,
  type BFDProfile,
  type BGPAdvertisement,
  type BGPPeer,
  type Community,
  type IPAddressPool,
  type L2Advertisement,
} from '../api/index.js';
import { formatRange, rangesOverlap, type IPRange } from '../ip/index.js';

/** The configuration kinds, in the order verdicts are reported. */
export const CONFIG_KINDS = ['IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'BFDProfile', 'Community'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** An object as the API server returned it: nothing is trusted until parsed. */
export interface RawConfigObject {
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly uid?: string | undefined;
        readonly creationTimestamp?: Date | string | undefined;
        readonly generation?: number | undefined;
      }
    | undefined;
  readonly spec?: unknown;
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly reason?: string }[] } | undefined;
}

/** The raw objects per kind. A kind left out is not watched by the caller: it yields nothing and no verdicts. */
export type ConfigInput = Partial<Record<ConfigKind, readonly unknown[]>>;

/** Why an object is not in force as written. */
export type InvalidReason =
  /** The spec does not pass the schema (including the rules CEL cannot check, e.g. a backwards range). */
  | 'InvalidSpec'
  /** A pool whose addresses overlap a pool that was there first. */
  | 'Overlap';

/** What stands in force for an object. */
export type Kept =
  /** The object as it is now. */
  | 'current'
  /** Its last good version: the current one is invalid. */
  | 'lastGood'
  /** Nothing: invalid, and no good version was ever seen by this process. */
  | 'nothing';

/** The verdict on one object: the `Valid` condition's content, a log field and an Event. */
export interface ObjectVerdict {
  readonly kind: ConfigKind;
  readonly name: string;
  readonly generation: number | undefined;
  readonly valid: boolean;
  readonly reason: 'Valid' | InvalidReason;
  readonly message: string;
  readonly kept: Kept;
}

/** A pool in force, with its parsed ranges. */
export interface PoolInForce {
  readonly pool: IPAddressPool;
  readonly ranges: readonly IPRange[];
  /**
   * In force from its last good version because the current one is invalid: IPs it gave out
   * stay (and stay announced), but it gives out no new ones.
   */
  readonly frozen: boolean;
}

/** Last good parsed object per `kind/name`; carried from one build to the next. */
export type LastGood = ReadonlyMap<string, unknown>;

/** The configuration that runs. Every list is sorted by name. */
export interface HeraldConfig {
  readonly pools: readonly PoolInForce[];
  readonly l2Advertisements: readonly L2Advertisement[];
  readonly bgpAdvertisements: readonly BGPAdvertisement[];
  readonly bgpPeers: readonly BGPPeer[];
  readonly bfdProfiles: readonly BFDProfile[];
  readonly communities: readonly Community[];
  /** One per object given, invalid ones first. */
  readonly verdicts: readonly ObjectVerdict[];
  /** To pass to the next {@link buildConfig}. */
  readonly lastGood: LastGood;
}

interface ParsedLike<T> {
  safeParse(o: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

const SCHEMAS: { readonly [K in ConfigKind]: ParsedLike<unknown> } = {
  IPAddressPool: IPAddressPoolSchema as unknown as ParsedLike<unknown>,
  L2Advertisement: L2AdvertisementSchema as unknown as ParsedLike<unknown>,
  BGPAdvertisement: BGPAdvertisementSchema as unknown as ParsedLike<unknown>,
  BGPPeer: BGPPeerSchema as unknown as ParsedLike<unknown>,
  BFDProfile: BFDProfileSchema as unknown as ParsedLike<unknown>,
  Community: CommunitySchema as unknown as ParsedLike<unknown>,
};

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const keyOf = (kind: ConfigKind, name: string): string => `${kind}/${name}`;
const nameOf = (o: unknown): string | undefined => {
  const n = (o as RawConfigObject | undefined)?.metadata?.name;
  return typeof n === 'string' && n !== '' ? n : undefined;
};
const created = (o: RawConfigObject): string => {
  const t = o.metadata?.creationTimestamp;
  return t instanceof Date ? t.toISOString() : (t ?? '');
};

function issuesText(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(object)'}: ${i.message}`).join('; ');
}

/** Ranges of a parsed pool; undefined when an entry does not parse (the schema should have refused it). */
function poolRanges(p: IPAddressPool): IPRange[] | string {
  const out: IPRange[] = [];
  for (const entry of p.spec.addresses) {
    const r = poolEntryRange(entry);
    if (r === undefined) return `spec.addresses: ${entry} is not a CIDR or a forward range of one family`;
    out.push(r);
  }
  return out;
}

function overlapWith(ranges: readonly IPRange[], accepted: readonly PoolInForce[]): string | undefined {
  for (const q of accepted) {
    for (const a of ranges) {
      for (const b of q.ranges) {
        if (rangesOverlap(a, b)) {
          return `${formatRange(a)} overlaps ${formatRange(b)} of pool ${q.pool.metadata.name}, which was there first; this pool is not used until the overlap is removed`;
        }
      }
    }
  }
  return undefined;
}

/**
 * Builds the configuration in force from the objects and the previous build's last good
 * versions. Pure and deterministic: the same input gives the same output in every process.
 */
export function buildConfig(input: ConfigInput, previous: LastGood = new Map()): HeraldConfig {
  const verdicts: ObjectVerdict[] = [];
  const lastGood = new Map<string, unknown>();

  /** Parses each object of a kind; invalid ones fall back to their last good version. */
  const simple = <T>(kind: ConfigKind): T[] => {
    const out: { name: string; obj: T }[] = [];
    for (const raw of input[kind] ?? []) {
      const name = nameOf(raw);
      if (name === undefined) continue;
      const generation = (raw as RawConfigObject).metadata?.generation;
      const r = SCHEMAS[kind].safeParse(raw);
      if (r.success) {
        out.push({ name, obj: r.data as T });
        lastGood.set(keyOf(kind, name), r.data);
        verdicts.push({ kind, name, generation, valid: true, reason: 'Valid', message: 'in force', kept: 'current' });
        continue;
      }
      const prev = previous.get(keyOf(kind, name));
      if (prev !== undefined) {
        out.push({ name, obj: prev as T });
        lastGood.set(keyOf(kind, name), prev);
      }
      verdicts.push(invalid(kind, name, generation, 'InvalidSpec', issuesText(r.error.issues), prev !== undefined));
    }
    return out.sort((a, b) => byName(a.name, b.name)).map((x) => x.obj);
  };

  const pools = buildPools(input.IPAddressPool ?? [], previous, lastGood, verdicts);
  const config: HeraldConfig = {
    pools,
    l2Advertisements: simple<L2Advertisement>('L2Advertisement'),
    bgpAdvertisements: simple<BGPAdvertisement>('BGPAdvertisement'),
    bgpPeers: simple<BGPPeer>('BGPPeer'),
    bfdProfiles: simple<BFDProfile>('BFDProfile'),
    communities: simple<Community>('Community'),
    verdicts: verdicts.sort((a, b) => Number(a.valid) - Number(b.valid) || CONFIG_KINDS.indexOf(a.kind) - CONFIG_KINDS.indexOf(b.kind) || byName(a.name, b.name)),
    lastGood,
  };
  return config;
}

function invalid(kind: ConfigKind, name: string, generation: number | undefined, reason: InvalidReason, why: string, keptLastGood: boolean): ObjectVerdict {
  const kept: Kept = keptLastGood ? 'lastGood' : 'nothing';
  const tail = keptLastGood ? 'its last valid version stays in force until this is fixed' : 'no valid version of it was seen, so it is not in force';
  return { kind, name, generation, valid: false, reason, message: `${why}; ${tail}`, kept };
}

/**
 * Pools: each must parse, and must not overlap a pool that was there first. Who wins an
 * overlap must never flip (it would move IPs): a pool that was good keeps winning, one whose
 * status says it lost keeps losing (across restarts too), then the older wins
 * (creationTimestamp has 1 s resolution, so the name breaks the last ties).
 */
function buildPools(raw: readonly unknown[], previous: LastGood, lastGood: Map<string, unknown>, verdicts: ObjectVerdict[]): PoolInForce[] {
  const key = (name: string): string => keyOf('IPAddressPool', name);
  const rank = (p: RawConfigObject): number => {
    if (previous.has(key(nameOf(p) ?? ''))) return 0;
    const lost = p.status?.conditions?.some((c) => c.type === 'Valid' && c.status === 'False' && c.reason === 'Overlap');
    return lost ? 2 : 1;
  };
  const objs = raw.filter((o): o is RawConfigObject => nameOf(o) !== undefined);
  const ordered = [...objs].sort((a, b) => rank(a) - rank(b) || created(a).localeCompare(created(b)) || byName(nameOf(a) ?? '', nameOf(b) ?? ''));
  const accepted: PoolInForce[] = [];
  const failed: { name: string; generation: number | undefined; reason: InvalidReason; why: string }[] = [];
  for (const obj of ordered) {
    const name = nameOf(obj) as string;
    const generation = obj.metadata?.generation;
    const r = IPAddressPoolSchema.safeParse(obj);
    if (!r.success) {
      failed.push({ name, generation, reason: 'InvalidSpec', why: issuesText(r.error.issues) });
      continue;
    }
    const ranges = poolRanges(r.data);
    if (typeof ranges === 'string') {
      failed.push({ name, generation, reason: 'InvalidSpec', why: ranges });
      continue;
    }
    const clash = overlapWith(ranges, accepted);
    if (clash) {
      failed.push({ name, generation, reason: 'Overlap', why: clash });
      continue;
    }
    accepted.push({ pool: r.data, ranges, frozen: false });
    lastGood.set(key(name), r.data);
    verdicts.push({ kind: 'IPAddressPool', name, generation, valid: true, reason: 'Valid', message: `${ranges.length} address range(s) in use`, kept: 'current' });
  }
  const frozen: PoolInForce[] = [];
  for (const f of failed) {
    const prev = previous.get(key(f.name)) as IPAddressPool | undefined;
    const ranges = prev === undefined ? undefined : poolRanges(prev);
    const keep = prev !== undefined && typeof ranges !== 'string' && ranges !== undefined;
    if (keep) {
      frozen.push({ pool: prev, ranges, frozen: true });
      lastGood.set(key(f.name), prev);
    }
    verdicts.push(invalid('IPAddressPool', f.name, f.generation, f.reason, f.why, keep));
  }
  return [...accepted, ...frozen].sort((a, b) => byName(a.pool.metadata.name ?? '', b.pool.metadata.name ?? ''));
}

/**
 * Holds the last good versions between builds: one per process and configuration view.
 * `update` is the only way the speaker and controller turn objects into configuration.
 */
export class ConfigTracker {
  #last: HeraldConfig | undefined;

  /** Builds from the current objects, carrying the last good versions of the previous build. */
  update(input: ConfigInput): HeraldConfig {
    this.#last = buildConfig(input, this.#last?.lastGood);
    return this.#last;
  }

  /** The latest build, if any. */
  get current(): HeraldConfig | undefined {
    return this.#last;
  }
}
