import { describe, expect, it } from '@jest/globals';
import { appObjects, heraldObjects, ingressObjects, l2Pool, APPS_NS, HERALD_NS } from './objects.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the sandbox\'s objects', () => {
  it('puts the L2 pool on the LAN\'s spare addresses and the BGP pool off the LAN, BGP only on request', () => {
    const objs = heraldObjects({ lanSubnet: '198.18.0.0/24', routerIp: '198.18.0.201' }) as Any[];
    expect(objs.map((o) => `${o['kind']}/${o['metadata'].name}`)).toEqual(['IPAddressPool/lan', 'L2Advertisement/lan', 'IPAddressPool/bgp', 'BGPAdvertisement/bgp', 'BGPPeer/frr']);
    for (const o of objs) expect(o['metadata'].namespace).toBe(HERALD_NS);
    expect(objs[0]?.['spec']).toEqual({ addresses: ['198.18.0.100-198.18.0.119'] });
    expect(objs[2]?.['spec']).toEqual({ addresses: ['198.51.100.10-198.51.100.19'], autoAssign: false });
    expect(objs[4]?.['spec']).toMatchObject({ myASN: 64500, peerASN: 64512, peerAddress: '198.18.0.201' });
    expect(() => l2Pool('198.18.0.0/16')).toThrow(/A.B.C.0\/24/);
  });

  it('makes app1, app2 and web from the backend image, ClusterIP Services for app1 and app2, and the two LoadBalancers on their pools', () => {
    const objs = appObjects({ backendImage: 'reg/backend:1', backendPort: 8080, replicas: 2 }) as Any[];
    expect(objs.map((o) => `${o['kind']}/${o['metadata'].name}`)).toEqual([
      'Namespace/sandbox', 'Deployment/app1', 'Service/app1', 'Deployment/app2', 'Service/app2', 'Deployment/web', 'Service/ingress', 'Service/web',
    ]);
    const deployments = objs.filter((o) => o['kind'] === 'Deployment');
    for (const d of deployments) {
      expect(d['spec'].replicas).toBe(2);
      expect(d['spec'].template.spec.containers[0].image).toBe('reg/backend:1');
    }
    const svc = (name: string): Any => objs.find((o) => o['kind'] === 'Service' && o['metadata'].name === name) ?? {};
    expect(svc('app1')['spec']).toMatchObject({ type: 'ClusterIP', selector: { app: 'app1' }, ports: [{ port: 80, targetPort: 8080 }] });
    expect(svc('ingress')['spec']).toMatchObject({ type: 'LoadBalancer', selector: { app: 'ingress' }, ports: [{ port: 80, targetPort: 80 }] });
    expect(svc('ingress')['metadata'].annotations).toEqual({ 'herald.io/address-pool': 'lan' });
    expect(svc('web')['spec']).toMatchObject({ type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
    expect(svc('web')['metadata'].annotations).toEqual({ 'herald.io/address-pool': 'bgp' });
    for (const o of objs.slice(1)) expect(o['metadata'].namespace).toBe(APPS_NS);
  });

  it('routes nginx to the ClusterIPs it is given, from a ConfigMap mounted on conf.d', () => {
    const [cm, dep] = ingressObjects({ nginxImage: 'reg/nginx:1', clusterIps: { app1: '10.98.0.11', app2: '10.98.0.12' } }) as Any[];
    const conf = String(cm?.['data']['sandbox.conf']);
    expect(conf).toContain('server_name app1.sandbox.test;');
    expect(conf).toContain('proxy_pass http://10.98.0.11:80;');
    expect(conf).toContain('proxy_pass http://10.98.0.12:80;');
    const pod = dep?.['spec'].template.spec;
    expect(pod.containers[0]).toMatchObject({ image: 'reg/nginx:1', volumeMounts: [{ name: 'conf', mountPath: '/etc/nginx/conf.d' }] });
    expect(pod.volumes).toEqual([{ name: 'conf', configMap: { name: 'ingress' } }]);
    expect(dep?.['spec'].template.metadata.labels).toEqual({ app: 'ingress' });
  });

  it('refuses to configure nginx without a ClusterIP for every app', () => {
    expect(() => ingressObjects({ nginxImage: 'n', clusterIps: { app1: '10.98.0.11' } })).toThrow(/no ClusterIP for app2/);
  });
});
