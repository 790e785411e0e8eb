/**
 * What herald reads from the cluster, behind one small interface: commands take a
 * {@link ClusterApi}, tests pass a fake, main passes {@link KubeClusterApi}. Read-only.
 * @packageDocumentation
 */
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  EventsV1Api,
  type EventsV1Event,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Lease,
  type V1Namespace,
  type V1Node,
  type V1Service,
} from '@kubernetes/client-node';
import { HeraldError, isNotFound, kubeError, sleep, statusCode, systemClock } from '@herald/shared/core';
import { callWithTimeout, loadKubeConfig, type RequestOptions } from '@herald/shared/kube';
import { UsageError } from './errors.js';

/** A CustomResourceDefinition, as much as listing its objects needs. */
export interface CrdInfo {
  readonly kind: string;
  readonly plural: string;
  /** The served storage version (what the API server converts to anyway). */
  readonly version: string;
  readonly namespaced: boolean;
}

export interface ListCustom {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** Undefined: every namespace. */
  readonly namespace?: string;
  readonly labelSelector?: string;
}

/** The reads herald makes. Failures are HeraldErrors (NotFound, KubeApi, Timeout). */
export interface ClusterApi {
  readNamespace(name: string): Promise<V1Namespace | undefined>;
  readService(namespace: string, name: string): Promise<V1Service | undefined>;
  /** Every Service in every namespace. */
  listServices(): Promise<V1Service[]>;
  listNodes(): Promise<V1Node[]>;
  /** Every EndpointSlice in every namespace. */
  listEndpointSlices(): Promise<V1EndpointSlice[]>;
  listLeases(namespace: string, labelSelector: string): Promise<V1Lease[]>;
  /** events.k8s.io/v1 Events about one Service. */
  listServiceEvents(namespace: string, name: string): Promise<EventsV1Event[]>;
  /** Custom objects (raw, unvalidated). */
  listCustom(req: ListCustom): Promise<unknown[]>;
  /** The CRDs of an API group. */
  listCrds(group: string): Promise<CrdInfo[]>;
}

/** Attempts per request while the API server answers 429 Too Many Requests. */
const MAX_ATTEMPTS = 5;

/** The Retry-After of a 429, bounded to 0.1..2 s; 0.5 s when absent. */
export function retryAfterMs(err: unknown): number {
  const headers = (err as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
  const secs = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(secs)) return 500;
  return Math.min(2_000, Math.max(100, secs * 1000));
}

/** {@link ClusterApi} over client-node, each request bounded by `timeoutMs`. */
export class KubeClusterApi implements ClusterApi {
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #discovery: DiscoveryV1Api;
  readonly #coordination: CoordinationV1Api;
  readonly #events: EventsV1Api;
  readonly #ext: ApiextensionsV1Api;
  readonly #timeoutMs: number;

  constructor(kc: KubeConfig, timeoutMs: number) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#discovery = kc.makeApiClient(DiscoveryV1Api);
    this.#coordination = kc.makeApiClient(CoordinationV1Api);
    this.#events = kc.makeApiClient(EventsV1Api);
    this.#ext = kc.makeApiClient(ApiextensionsV1Api);
    this.#timeoutMs = timeoutMs;
  }

  async #call<T>(what: string, fn: (o: RequestOptions) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await callWithTimeout(systemClock, this.#timeoutMs, what, fn);
      } catch (err) {
        // 429: the API server asks to come back (e.g. "storage is (re)initializing" while
        // the watch cache of a resource nobody read yet fills); client-go retries these too.
        if (statusCode(err) !== 429 || attempt >= MAX_ATTEMPTS) throw kubeError(what, err);
        await sleep(systemClock, retryAfterMs(err));
      }
    }
  }

  async #orUndefined<T>(what: string, fn: (o: RequestOptions) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.#call(what, fn);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  readNamespace(name: string): Promise<V1Namespace | undefined> {
    return this.#orUndefined(`read namespace ${name}`, (o) => this.#core.readNamespace({ name }, o));
  }

  readService(namespace: string, name: string): Promise<V1Service | undefined> {
    return this.#orUndefined(`read service ${namespace}/${name}`, (o) => this.#core.readNamespacedService({ namespace, name }, o));
  }

  async listServices(): Promise<V1Service[]> {
    return (await this.#call('list services', (o) => this.#core.listServiceForAllNamespaces({}, o))).items;
  }

  async listNodes(): Promise<V1Node[]> {
    return (await this.#call('list nodes', (o) => this.#core.listNode({}, o))).items;
  }

  async listEndpointSlices(): Promise<V1EndpointSlice[]> {
    return (await this.#call('list endpointslices', (o) => this.#discovery.listEndpointSliceForAllNamespaces({}, o))).items;
  }

  async listLeases(namespace: string, labelSelector: string): Promise<V1Lease[]> {
    return (await this.#call(`list leases in ${namespace}`, (o) => this.#coordination.listNamespacedLease({ namespace, labelSelector }, o))).items;
  }

  async listServiceEvents(namespace: string, name: string): Promise<EventsV1Event[]> {
    const fieldSelector = `regarding.kind=Service,regarding.name=${name}`;
    return (await this.#call(`list events of service ${namespace}/${name}`, (o) => this.#events.listNamespacedEvent({ namespace, fieldSelector }, o))).items;
  }

  async listCustom(req: ListCustom): Promise<unknown[]> {
    const where = req.namespace === undefined ? 'all namespaces' : req.namespace;
    const what = `list ${req.plural}.${req.group}/${req.version} in ${where}`;
    const sel = req.labelSelector === undefined ? {} : { labelSelector: req.labelSelector };
    const list = (await this.#call(what, (o) =>
      req.namespace === undefined
        ? this.#custom.listClusterCustomObject({ group: req.group, version: req.version, plural: req.plural, ...sel }, o)
        : this.#custom.listNamespacedCustomObject({ group: req.group, version: req.version, plural: req.plural, namespace: req.namespace, ...sel }, o),
    )) as { items?: unknown[] };
    return list.items ?? [];
  }

  async listCrds(group: string): Promise<CrdInfo[]> {
    const list = await this.#call('list customresourcedefinitions', (o) => this.#ext.listCustomResourceDefinition({}, o));
    const out: CrdInfo[] = [];
    for (const crd of list.items) {
      if (crd.spec.group !== group) continue;
      const version = crd.spec.versions.find((v) => v.storage && v.served) ?? crd.spec.versions.find((v) => v.served);
      if (version === undefined) continue;
      out.push({ kind: crd.spec.names.kind, plural: crd.spec.names.plural, version: version.name, namespaced: crd.spec.scope === 'Namespaced' });
    }
    return out.sort((a, b) => a.kind.localeCompare(b.kind));
  }
}

/**
 * Loads the kubeconfig (--kubeconfig, in-cluster, $KUBECONFIG or ~/.kube/config, as the
 * controller does) and switches to `context` when given. An unknown context is a usage error.
 */
export function loadClusterConfig(opts: { kubeconfig?: string | undefined; context?: string | undefined }): KubeConfig {
  const kc = loadKubeConfig(opts.kubeconfig);
  if (opts.context !== undefined) {
    if (kc.getContextObject(opts.context) === null || kc.getContextObject(opts.context) === undefined) {
      throw new UsageError(`--context: no context "${opts.context}" in the kubeconfig (known: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(opts.context);
    if (kc.getCurrentCluster()?.server === undefined) throw new HeraldError('InvalidConfig', `--context ${opts.context}: its cluster is not defined`);
  }
  return kc;
}
