/**
 * What the sandbox applies to its cluster, as plain data (pure): Herald's pools,
 * advertisements and BGP peer, two backend apps behind an nginx ingress on one L2 IP, and a
 * third app on a BGP IP. Built on `@herald/e2e-on-cluster`'s manifest helpers.
 * @packageDocumentation
 */
import { backendDeployment, herald, loadBalancer, type Obj } from '@herald/e2e-on-cluster';
import { nginxConfig } from './nginx.js';

/** Herald's namespace (the chart's release namespace). */
export const HERALD_NS = 'herald-system';
/** The namespace of the sandbox's apps and Services. */
export const APPS_NS = 'sandbox';
export const HERALD_ASN = 64500;
export const FRR_ASN = 64512;
/** BGP pool: off the LAN; the client routes it via FRR, FRR via the nodes that announce it. */
export const BGP_POOL = '198.51.100.10-198.51.100.19';
/** What the client routes via FRR: the BGP pool's /24. */
export const BGP_ROUTE = '198.51.100.0/24';
/** The port of every Service (and nginx's in its Pod). */
export const HTTP_PORT = 80;
/** The host names behind the ingress IP, and the backend Deployment each routes to. */
export const INGRESS_ROUTES = [
  { hostName: 'app1.sandbox.test', app: 'app1' },
  { hostName: 'app2.sandbox.test', app: 'app2' },
] as const;
/** The BGP Service and its Deployment. */
export const WEB_APP = 'web';
/** The ingress Service, and nginx's Deployment and ConfigMap. */
export const INGRESS_APP = 'ingress';

/** The L2 pool: the first 20 of the LAN's spare addresses (`.100` up; no host uses them). */
export function l2Pool(lanSubnet: string): string {
  const base = lanSubnet.replace(/\.0\/24$/, '');
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(base)) throw new Error(`l2Pool: want A.B.C.0/24, got ${JSON.stringify(lanSubnet)}`);
  return `${base}.100-${base}.119`;
}

/** Herald's configuration: an L2 pool on the LAN, a BGP pool off it, and FRR as the BGP peer. */
export function heraldObjects(o: { lanSubnet: string; routerIp: string }): Obj[] {
  return [
    herald('IPAddressPool', 'lan', HERALD_NS, { addresses: [l2Pool(o.lanSubnet)] }),
    herald('L2Advertisement', 'lan', HERALD_NS, { ipAddressPools: ['lan'] }),
    herald('IPAddressPool', 'bgp', HERALD_NS, { addresses: [BGP_POOL], autoAssign: false }),
    herald('BGPAdvertisement', 'bgp', HERALD_NS, { ipAddressPools: ['bgp'] }),
    // connectTime 1s: FRR starts alongside; the first retry comes at once, not after the default 120 s.
    herald('BGPPeer', 'frr', HERALD_NS, { myASN: HERALD_ASN, peerASN: FRR_ASN, peerAddress: o.routerIp, connectTime: '1s' }),
  ];
}

/** A ClusterIP Service on port 80 for an app. */
export function clusterIpService(name: string, targetPort: number): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: APPS_NS },
    spec: { type: 'ClusterIP', selector: { app: name }, ports: [{ name: 'http', port: HTTP_PORT, targetPort, protocol: 'TCP' }] },
  };
}

/**
 * Everything that needs neither Herald's CRDs nor a ClusterIP: the namespace, the three
 * backend Deployments, the backends' ClusterIP Services and the two LoadBalancer Services.
 */
export function appObjects(o: { backendImage: string; backendPort: number; replicas: number }): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APPS_NS } },
    ...INGRESS_ROUTES.flatMap((r) => [
      backendDeployment({ namespace: APPS_NS, name: r.app, image: o.backendImage, replicas: o.replicas, port: o.backendPort }),
      clusterIpService(r.app, o.backendPort),
    ]),
    backendDeployment({ namespace: APPS_NS, name: WEB_APP, image: o.backendImage, replicas: o.replicas, port: o.backendPort }),
    loadBalancer({ namespace: APPS_NS, name: INGRESS_APP, app: INGRESS_APP, targetPort: HTTP_PORT, pool: 'lan' }),
    loadBalancer({ namespace: APPS_NS, name: WEB_APP, app: WEB_APP, targetPort: o.backendPort, pool: 'bgp' }),
  ];
}

/**
 * nginx's ConfigMap (routing each host name to its app's ClusterIP) and Deployment (one
 * Pod, the ConfigMap mounted on /etc/nginx/conf.d).
 */
export function ingressObjects(o: { nginxImage: string; clusterIps: Readonly<Record<string, string>> }): Obj[] {
  const routes = INGRESS_ROUTES.map((r) => {
    const ip = o.clusterIps[r.app];
    if (ip === undefined) throw new Error(`ingressObjects: no ClusterIP for ${r.app}`);
    return { hostName: r.hostName, upstream: { ip, port: HTTP_PORT } };
  });
  const labels = { app: INGRESS_APP };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: INGRESS_APP, namespace: APPS_NS }, data: { 'sandbox.conf': nginxConfig({ listenPort: HTTP_PORT, routes }) } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: INGRESS_APP, namespace: APPS_NS, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'nginx',
                image: o.nginxImage,
                ports: [{ containerPort: HTTP_PORT }],
                volumeMounts: [{ name: 'conf', mountPath: '/etc/nginx/conf.d', readOnly: true }],
                readinessProbe: { tcpSocket: { port: HTTP_PORT }, periodSeconds: 1 },
              },
            ],
            volumes: [{ name: 'conf', configMap: { name: INGRESS_APP } }],
          },
        },
      },
    },
  ];
}
