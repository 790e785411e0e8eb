/**
 * `herald import-metallb`: MetalLB's metallb.io resources to Herald's herald.io ones.
 * Herald kept MetalLB's kinds, field names and defaults, so most objects only change
 * `apiVersion` and namespace; each result is then checked against Herald's own schemas
 * (the ones its CRDs are generated from), and every field Herald lacks or value it refuses
 * is reported. {@link convertMetalLB} is pure; {@link loadMetalLBFromCluster} reads a
 * cluster through a {@link ClusterApi}.
 * @packageDocumentation
 */
import { Document, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { ALL_KINDS, API_VERSION, type KindDefinition } from '@herald/shared/api';
import type { ClusterApi } from './api.js';
import { UsageError, notFound } from './errors.js';

export const METALLB_GROUP = 'metallb.io';

export type Severity = 'error' | 'warning' | 'note';

/** One thing to tell the user about one source object. */
export interface ImportProblem {
  readonly severity: Severity;
  /** `metallb.io/v1beta2 BGPPeer`, or what the object claims to be. */
  readonly source: string;
  /** `namespace/name`, `name`, or `document N`. */
  readonly object: string;
  readonly message: string;
}

/** A converted object: plain JSON, ready to apply. */
export interface HeraldObject {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: string;
  readonly metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  readonly spec: Record<string, unknown>;
}

export interface Converted {
  readonly object: HeraldObject;
  /** Where it came from, for the YAML comment. */
  readonly from: string;
}

export interface ImportResult {
  /** In Herald's kind order (pools first), then by name. */
  readonly objects: readonly Converted[];
  readonly problems: readonly ImportProblem[];
}

/** Kinds MetalLB writes itself (status): not configuration, never imported. */
const STATUS_KINDS = new Set(['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState', 'BGPSessionState']);

/** MetalLB kind -> the versions converted. Same kind name in Herald, except AddressPool. */
const SUPPORTED: Readonly<Record<string, readonly string[]>> = {
  IPAddressPool: ['v1beta1'],
  L2Advertisement: ['v1beta1'],
  BGPAdvertisement: ['v1beta1'],
  BFDProfile: ['v1beta1'],
  Community: ['v1beta1'],
  BGPPeer: ['v1beta2', 'v1beta1'],
  AddressPool: ['v1beta1', 'v1alpha1'],
};

/** Annotations that describe the source object, not the configuration. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

const KIND_ORDER = new Map(ALL_KINDS.map((k, i) => [k.kind, i]));
const KINDS = new Map<string, KindDefinition>(ALL_KINDS.map((k) => [k.kind, k]));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Kubernetes treats `field: null` as absent; zod does not, so nulls are dropped first. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly catchall?: z.ZodType;
  readonly element?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under optional/default/prefault/nullable/readonly wrappers and pipes. */
function unwrap(schema: z.ZodType): z.ZodType {
  let cur = schema;
  for (let i = 0; i < 16; i++) {
    const d = defOf(cur);
    if (d.innerType !== undefined && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) cur = d.innerType;
    else if (d.type === 'pipe' && d.in !== undefined) cur = d.in;
    else break;
  }
  return cur;
}

/**
 * Paths in `value` the schema has no field for. zod objects strip unknown keys silently;
 * an import must say what it drops instead. Loose objects (metadata) accept anything.
 */
export function unknownFields(schema: z.ZodType, value: unknown, path: string): string[] {
  const d = defOf(unwrap(schema));
  if (d.type === 'object' && d.shape !== undefined && isObject(value)) {
    const out: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      const field = d.shape[k];
      if (field === undefined) {
        if (d.catchall === undefined) out.push(`${path}.${k}`);
        continue;
      }
      out.push(...unknownFields(field, v, `${path}.${k}`));
    }
    return out;
  }
  if (d.type === 'array' && d.element !== undefined && Array.isArray(value)) {
    return value.flatMap((v, i) => unknownFields(d.element as z.ZodType, v, `${path}[${i}]`));
  }
  return [];
}

/** Removes the paths {@link unknownFields} found (only object keys; arrays are walked). */
function dropPath(root: Record<string, unknown>, path: string): void {
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let cur: unknown = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] ?? '';
    cur = Array.isArray(cur) ? cur[Number(p)] : isObject(cur) ? cur[p] : undefined;
  }
  const last = parts[parts.length - 1];
  if (isObject(cur) && last !== undefined) delete cur[last];
}

function specSchema(kind: KindDefinition): z.ZodType | undefined {
  const d = defOf(unwrap(kind.schema));
  return d.shape?.['spec'];
}

interface Source {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly labels: Record<string, string> | undefined;
  readonly annotations: Record<string, string> | undefined;
  readonly spec: Record<string, unknown>;
  readonly ref: string;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObject(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

class Converter {
  readonly objects: Converted[] = [];
  readonly problems: ImportProblem[] = [];
  readonly #seen = new Map<string, string>();

  constructor(readonly namespace: string) {}

  report(severity: Severity, src: { apiVersion: string; kind: string; ref: string }, message: string): void {
    this.problems.push({ severity, source: `${src.apiVersion} ${src.kind}`.trim(), object: src.ref, message });
  }

  convert(raw: unknown, index: number): void {
    const doc = withoutNulls(raw);
    const fallbackRef = `document ${index + 1}`;
    if (!isObject(doc) || typeof doc['apiVersion'] !== 'string' || typeof doc['kind'] !== 'string') {
      this.report('error', { apiVersion: '', kind: 'object', ref: fallbackRef }, 'not a Kubernetes object (apiVersion and kind are required)');
      return;
    }
    const apiVersion = doc['apiVersion'];
    const kind = doc['kind'];
    const meta = isObject(doc['metadata']) ? doc['metadata'] : {};
    const name = typeof meta['name'] === 'string' ? meta['name'] : '';
    const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
    const ref = name === '' ? fallbackRef : namespace === undefined ? name : `${namespace}/${name}`;
    const [group, version = ''] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const srcId = { apiVersion, kind, ref };
    if (group !== METALLB_GROUP) {
      this.report('note', srcId, 'not a metallb.io resource: skipped');
      return;
    }
    if (STATUS_KINDS.has(kind)) {
      this.report('note', srcId, 'status kind written by MetalLB: skipped (Herald writes its own)');
      return;
    }
    const versions = SUPPORTED[kind];
    if (versions === undefined) {
      this.report('error', srcId, `Herald has no equivalent of metallb.io ${kind}: not converted`);
      return;
    }
    if (!versions.includes(version)) {
      this.report('error', srcId, `version ${version} is not supported (supported: ${versions.join(', ')}): not converted`);
      return;
    }
    if (name === '') {
      this.report('error', srcId, 'metadata.name is missing: not converted');
      return;
    }
    const spec = isObject(doc['spec']) ? doc['spec'] : {};
    const src: Source = { apiVersion, kind, name, namespace, labels: stringMap(meta['labels']), annotations: stringMap(meta['annotations']), spec, ref };
    if (kind === 'AddressPool') this.#addressPool(src);
    else {
      if (kind === 'BGPPeer' && version === 'v1beta1') this.report('note', src, 'metallb.io/v1beta1 BGPPeer is deprecated; converted as v1beta2');
      this.#emit(src, kind, name, { ...spec });
    }
  }

  /** MetalLB's deprecated AddressPool: a pool plus the advertisement its `protocol` implied. */
  #addressPool(src: Source): void {
    const { protocol, addresses, autoAssign, avoidBuggyIPs, bgpAdvertisements, ...rest } = src.spec;
    for (const k of Object.keys(rest)) this.report('warning', src, `spec.${k}: Herald has no such field: dropped`);
    if (protocol !== 'layer2' && protocol !== 'bgp') {
      this.report('error', src, `spec.protocol must be layer2 or bgp, got ${JSON.stringify(protocol)}: not converted`);
      return;
    }
    const poolSpec: Record<string, unknown> = { addresses };
    if (autoAssign !== undefined) poolSpec['autoAssign'] = autoAssign;
    if (avoidBuggyIPs !== undefined) poolSpec['avoidBuggyIPs'] = avoidBuggyIPs;
    const made: string[] = [];
    if (!this.#emit(src, 'IPAddressPool', src.name, poolSpec)) return;
    made.push(`IPAddressPool ${src.name}`);
    if (protocol === 'layer2') {
      if (bgpAdvertisements !== undefined) this.report('warning', src, 'spec.bgpAdvertisements: ignored, as protocol is layer2: dropped');
      if (this.#emit(src, 'L2Advertisement', src.name, { ipAddressPools: [src.name] })) made.push(`L2Advertisement ${src.name}`);
    } else {
      const ads = Array.isArray(bgpAdvertisements) && bgpAdvertisements.length > 0 ? bgpAdvertisements : [{}];
      ads.forEach((ad, i) => {
        const name = ads.length === 1 ? src.name : `${src.name}-${i}`;
        const adSpec = isObject(ad) ? { ...ad } : {};
        if (this.#emit(src, 'BGPAdvertisement', name, { ...adSpec, ipAddressPools: [src.name] }, `spec.bgpAdvertisements[${i}]`)) made.push(`BGPAdvertisement ${name}`);
      });
    }
    this.report('note', src, `deprecated AddressPool converted into ${made.join(', ')}`);
  }

  /** Builds, checks and records one Herald object; false when it was refused. */
  #emit(src: Source, kind: string, name: string, spec: Record<string, unknown>, specPath = 'spec'): boolean {
    const def = KINDS.get(kind);
    const schema = def === undefined ? undefined : specSchema(def);
    if (def === undefined || schema === undefined) {
      this.report('error', src, `internal: no Herald schema for ${kind}`);
      return false;
    }
    for (const path of unknownFields(schema, spec, 'spec')) {
      this.report('warning', src, `${path.replace(/^spec/, specPath)}: Herald has no such field: dropped`);
      dropPath({ spec }, path);
    }
    if (kind === 'BGPPeer') this.#passwordSecret(src, spec);
    const annotations = Object.fromEntries(Object.entries(src.annotations ?? {}).filter(([k]) => !DROPPED_ANNOTATIONS.has(k)));
    const object: HeraldObject = {
      apiVersion: API_VERSION,
      kind,
      metadata: {
        name,
        namespace: this.namespace,
        ...(src.labels !== undefined && Object.keys(src.labels).length > 0 ? { labels: src.labels } : {}),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
      spec,
    };
    const parsed = def.schema.safeParse(object);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
        const what = kind === src.kind && name === src.name ? '' : `${kind} ${name}: `;
        this.report('error', src, `${what}${path.replace(/^spec/, specPath)}: ${issue.message}: not converted`);
      }
      return false;
    }
    const key = `${kind}/${name}`;
    const first = this.#seen.get(key);
    if (first !== undefined) {
      this.report('error', src, `${kind} ${this.namespace}/${name} was already produced from ${first}: not converted (rename one)`);
      return false;
    }
    this.#seen.set(key, `${src.apiVersion} ${src.kind} ${src.ref}`);
    this.objects.push({ object, from: `${src.apiVersion} ${src.kind} ${src.ref}` });
    return true;
  }

  /** Herald reads BGP passwords only from Secrets in its own namespace. */
  #passwordSecret(src: Source, spec: Record<string, unknown>): void {
    const ps = spec['passwordSecret'];
    if (!isObject(ps) || typeof ps['name'] !== 'string') return;
    const from = typeof ps['namespace'] === 'string' ? ps['namespace'] : src.namespace;
    if (from === this.namespace) return;
    if (typeof ps['namespace'] === 'string') spec['passwordSecret'] = { ...ps, namespace: this.namespace };
    this.report('warning', src, `spec.passwordSecret: Herald reads Secrets only from its namespace: copy Secret ${from ?? '<the MetalLB namespace>'}/${ps['name']} to ${this.namespace}`);
  }
}

/** Converts metallb.io objects into herald.io objects in `namespace`. Pure. */
export function convertMetalLB(docs: readonly unknown[], namespace: string): ImportResult {
  const c = new Converter(namespace);
  docs.forEach((d, i) => c.convert(d, i));
  const objects = [...c.objects].sort(
    (a, b) => (KIND_ORDER.get(a.object.kind) ?? 99) - (KIND_ORDER.get(b.object.kind) ?? 99) || a.object.metadata.name.localeCompare(b.object.metadata.name),
  );
  return { objects, problems: c.problems };
}

/** Whether the result holds an error or a warning (exit 1). */
export function hasLoss(r: ImportResult): boolean {
  return r.problems.some((p) => p.severity !== 'note');
}

/** Multi-document YAML (or JSON) to objects; `List` objects are flattened. Malformed YAML is a UsageError. */
export function parseDocuments(text: string, what: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    const err = doc.errors[0];
    if (err !== undefined) throw new UsageError(`${what}: invalid YAML: ${err.message.split('\n')[0] ?? ''}`);
    const js: unknown = doc.toJS();
    if (js === null || js === undefined) continue;
    if (isObject(js) && typeof js['kind'] === 'string' && js['kind'].endsWith('List') && Array.isArray(js['items'])) out.push(...js['items']);
    else out.push(js);
  }
  return out;
}

/** Problems as stderr lines: `SEVERITY: SOURCE OBJECT: message`. */
export function problemLines(r: ImportResult): string[] {
  return r.problems.map((p) => `${p.severity}: ${p.source} ${p.object}: ${p.message}`);
}

/** The converted objects as multi-document YAML (each with where it came from) or a JSON List. */
export function renderImport(r: ImportResult, format: 'yaml' | 'json'): string {
  if (format === 'json') return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: r.objects.map((o) => o.object) }, null, 2) + '\n';
  return r.objects
    .map((o) => {
      const doc = new Document(o.object);
      // On the top node, not the document: a document comment is followed by a blank line.
      if (doc.contents !== null) doc.contents.commentBefore = ` converted from ${o.from}`;
      return `---\n${doc.toString({ lineWidth: 0 })}`;
    })
    .join('');
}

/** Kinds worth listing from a cluster: what converts, and anything unknown (each gets reported). */
const LISTED = (kind: string): boolean => !STATUS_KINDS.has(kind);

/**
 * The metallb.io objects of a cluster, every namespace, each at its CRD's storage version.
 * NotFound (exit 3) when no metallb.io CRD exists. Status kinds are not listed (one note each).
 */
export async function loadMetalLBFromCluster(api: ClusterApi): Promise<{ docs: unknown[]; notes: ImportProblem[] }> {
  const crds = await api.listCrds(METALLB_GROUP);
  if (crds.length === 0) throw notFound(`no ${METALLB_GROUP} CRDs in the cluster: is MetalLB installed? (or use -f FILE)`);
  const notes: ImportProblem[] = [];
  const docs: unknown[] = [];
  const lists = await Promise.all(
    crds.filter((c) => LISTED(c.kind)).map(async (c) => ({ crd: c, items: await api.listCustom({ group: METALLB_GROUP, version: c.version, plural: c.plural }) })),
  );
  for (const c of crds.filter((x) => !LISTED(x.kind))) {
    notes.push({ severity: 'note', source: `${METALLB_GROUP}/${c.version} ${c.kind}`, object: '*', message: 'status kind written by MetalLB: not imported' });
  }
  for (const { crd, items } of lists) {
    // List items carry apiVersion and kind, but a proxy may strip them: restore from the CRD.
    for (const it of items) docs.push(isObject(it) ? { apiVersion: `${METALLB_GROUP}/${crd.version}`, kind: crd.kind, ...it } : it);
  }
  return { docs, notes };
}
