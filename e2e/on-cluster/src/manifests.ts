/**
 * The objects the real-cluster suites apply, as plain data (pure, unit-tested): Herald's
 * configuration and a backend Deployment whose Pods name themselves and their node.
 * @packageDocumentation
 */

export type Obj = Record<string, unknown>;

export interface BackendOptions {
  readonly namespace: string;
  readonly name: string;
  readonly image: string;
  readonly replicas: number;
  /** The port the backend listens on inside the Pod. */
  readonly port: number;
}

/**
 * A Deployment spread one Pod per node (required anti-affinity on the hostname), each Pod
 * told its node and name through the downward API, so a reply says who served it.
 */
export function backendDeployment(o: BackendOptions): Obj {
  const labels = { app: o.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name, namespace: o.namespace, labels },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] } },
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'backend',
              image: o.image,
              ports: [{ containerPort: o.port }],
              env: [
                { name: 'APP_NAME', value: o.name },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              readinessProbe: { tcpSocket: { port: o.port }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

export interface ServiceOptions {
  readonly namespace: string;
  readonly name: string;
  readonly app: string;
  readonly targetPort: number;
  readonly families?: readonly ('IPv4' | 'IPv6')[];
  readonly trafficPolicy?: 'Cluster' | 'Local';
  readonly pool?: string;
}

/** A LoadBalancer Service on port 80. */
export function loadBalancer(o: ServiceOptions): Obj {
  const fams = o.families ?? ['IPv4'];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name, namespace: o.namespace, ...(o.pool === undefined ? {} : { annotations: { 'herald.io/address-pool': o.pool } }) },
    spec: {
      type: 'LoadBalancer',
      selector: { app: o.app },
      ports: [{ name: 'http', port: 80, targetPort: o.targetPort, protocol: 'TCP' }],
      ipFamilies: fams,
      ipFamilyPolicy: fams.length > 1 ? 'RequireDualStack' : 'SingleStack',
      externalTrafficPolicy: o.trafficPolicy ?? 'Cluster',
    },
  };
}

/** A herald.io object in Herald's namespace. */
export function herald(kind: string, name: string, namespace: string, spec: Obj): Obj {
  return { apiVersion: 'herald.io/v1beta1', kind, metadata: { name, namespace }, spec };
}

/** Multi-document YAML-compatible JSON stream for `kubectl apply -f -` (JSON is YAML). */
export function applyStream(objs: readonly Obj[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs });
}
