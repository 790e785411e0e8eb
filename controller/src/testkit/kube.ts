/**
 * Test kit for the controller's integration tests: a real client against the
 * shared local control plane, one namespace per test, polling helpers. Not
 * part of the build.
 */
import { CoreV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig, type V1Service, type V1ServiceSpec } from '@kubernetes/client-node';
import { PooledKubeConfig } from '@herald/shared/kube';
import { randomBytes } from 'node:crypto';
import { eventually, testKubeconfigPath } from '@herald/e2e-harness';
import { GROUP, VERSION } from '@herald/shared/api';
import { silentLogger, systemClock, createLogger } from '@herald/shared/core';
import { Controller } from '../controller.js';
import { ControllerMetrics } from '../metrics.js';

export function kubeConfig(path = testKubeconfigPath()): KubeConfig {
  const kc = new PooledKubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export { eventually };

/** A namespace of its own for one test file, with typed helpers. */
export class TestCluster {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly events: EventsV1Api;
  /** Unique per test file: Services use it as loadBalancerClass so parallel files never share Services. */
  readonly lbClass: string;
  private readonly namespaces: string[] = [];

  constructor(readonly ns: string, kubeconfigPath?: string) {
    this.lbClass = `test.herald.io/${ns}`;
    this.kc = kubeConfig(kubeconfigPath);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
    this.events = this.kc.makeApiClient(EventsV1Api);
  }

  /** A fresh namespace on the shared test control plane, or on the one `kubeconfigPath` names. */
  static async create(prefix: string, kubeconfigPath?: string): Promise<TestCluster> {
    const c = new TestCluster(`${prefix}-${randomBytes(3).toString('hex')}`, kubeconfigPath);
    await c.namespace(c.ns);
    return c;
  }

  async namespace(name: string, labels: Record<string, string> = {}): Promise<string> {
    await this.core.createNamespace({ body: { metadata: { name, labels } } });
    this.namespaces.push(name);
    return name;
  }

  async pool(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'ipaddresspools', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAddressPool', metadata: { name }, spec } });
  }

  async getPool(name: string): Promise<{ spec: Record<string, unknown>; status?: Record<string, unknown>; metadata: { resourceVersion: string } }> {
    return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'ipaddresspools', name })) as never;
  }

  /** Replaces the spec; retries when the controller's status write got in between (409), as kubectl edit would. */
  async setPoolSpec(name: string, spec: Record<string, unknown>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.getPool(name);
      try {
        await this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'ipaddresspools', name, body: { ...cur, spec } });
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== 409 || attempt >= 5) throw err;
      }
    }
  }

  async deletePool(name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: 'ipaddresspools', name });
  }

  /** A LoadBalancer Service of this file's class (unless spec overrides it), port 80/TCP by default. */
  async service(name: string, opts: { spec?: Partial<V1ServiceSpec>; annotations?: Record<string, string>; labels?: Record<string, string>; namespace?: string; noClass?: boolean } = {}): Promise<V1Service> {
    return this.core.createNamespacedService({
      namespace: opts.namespace ?? this.ns,
      body: {
        metadata: { name, annotations: opts.annotations ?? {}, labels: opts.labels ?? {} },
        spec: { type: 'LoadBalancer', ...((opts.spec?.type ?? 'LoadBalancer') === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: false } : {}), ...(opts.noClass ? {} : { loadBalancerClass: this.lbClass }), ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name }, ...opts.spec },
      },
    });
  }

  async getService(name: string, namespace = this.ns): Promise<V1Service> {
    return this.core.readNamespacedService({ name, namespace });
  }

  async patchService(name: string, patch: (s: V1Service) => V1Service, namespace = this.ns): Promise<V1Service> {
    for (;;) {
      const cur = await this.getService(name, namespace);
      try {
        return await this.core.replaceNamespacedService({ name, namespace, body: patch(cur) });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
  }

  async deleteService(name: string, namespace = this.ns): Promise<void> {
    await this.core.deleteNamespacedService({ name, namespace });
  }

  /** The IPs in a Service's status. */
  async ips(name: string, namespace = this.ns): Promise<string[]> {
    const s = await this.getService(name, namespace);
    return (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
  }

  /** Waits until the Service's status lists exactly `want` (in order). */
  async waitIPs(name: string, want: string[], namespace = this.ns, timeoutMs = 15_000): Promise<void> {
    await eventually(`${namespace}/${name} to have ${JSON.stringify(want)}`, async () => {
      const got = await this.ips(name, namespace);
      return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
    }, timeoutMs);
  }

  /** Waits until our condition has `reason`, returning it. */
  async waitCondition(name: string, reason: string, namespace = this.ns): Promise<{ status: string; reason: string; message: string }> {
    return eventually(`${namespace}/${name} condition ${reason}`, async () => {
      const s = await this.getService(name, namespace);
      const c = s.status?.conditions?.find((x) => x.type === 'herald.io/AddressAssigned');
      return c?.reason === reason ? { status: c.status, reason: c.reason, message: c.message } : undefined;
    });
  }

  /** Events (events.k8s.io/v1) about one object, oldest first. */
  async eventsFor(name: string, namespace = this.ns): Promise<{ reason: string; note: string; type: string }[]> {
    const list = await this.events.listNamespacedEvent({ namespace, fieldSelector: `regarding.name=${name}` });
    return list.items.map((e) => ({ reason: e.reason ?? '', note: e.note ?? '', type: e.type ?? '' }));
  }

  async waitEvent(name: string, reason: string, namespace = this.ns): Promise<string> {
    return eventually(`event ${reason} for ${namespace}/${name}`, async () => (await this.eventsFor(name, namespace)).find((e) => e.reason === reason)?.note);
  }

  /** Deletes every namespace this cluster made (no controller-manager: objects are deleted one by one first). */
  async cleanup(): Promise<void> {
    for (const ns of this.namespaces) {
      const svcs = await this.core.listNamespacedService({ namespace: ns }).catch(() => ({ items: [] as V1Service[] }));
      await Promise.all(svcs.items.map((s) => this.core.deleteNamespacedService({ name: s.metadata?.name ?? '', namespace: ns }).catch(() => undefined)));
      await this.core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
  }
}

/** A controller running in this process against the test control plane. */
export async function startController(c: TestCluster, opts: { lbClass?: string | null; leaderElect?: boolean; identity?: string; logLevel?: string } = {}): Promise<{ controller: Controller; metrics: ControllerMetrics; stop(): Promise<void> }> {
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  const log = process.env['HERALD_TEST_LOG'] ? createLogger({ level: 'debug', name: 'test' }) : silentLogger();
  const controller = new Controller({
    kc: c.kc,
    namespace: c.ns,
    lbClass: opts.lbClass === null ? undefined : (opts.lbClass ?? c.lbClass),
    log,
    clock: systemClock,
    metrics,
    leaderElect: opts.leaderElect ?? false,
    identity: opts.identity ?? 'test',
  });
  await controller.start();
  return { controller, metrics, stop: () => controller.stop() };
}
