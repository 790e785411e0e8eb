import { describe, expect, it } from '@jest/globals';
import { applyStream, backendDeployment, herald, loadBalancer } from './manifests.js';
import { imageValues } from './install.js';

describe('real-cluster manifests', () => {
  it('spreads the backend one Pod per node and tells each Pod its node and name', () => {
    const d = backendDeployment({ namespace: 'apps', name: 'web', image: 'r:5000/b:1', replicas: 3, port: 8080 }) as { spec: { template: { spec: Record<string, unknown> } } };
    const spec = d.spec.template.spec as { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { topologyKey: string }[] } }; containers: { env: { name: string; valueFrom?: { fieldRef: { fieldPath: string } } }[] }[] };
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]?.topologyKey).toBe('kubernetes.io/hostname');
    expect(spec.containers[0]?.env.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef.fieldPath).toBe('spec.nodeName');
  });

  it('asks for dual-stack only with two families, and for a pool by annotation', () => {
    expect(loadBalancer({ namespace: 'a', name: 's', app: 'x', targetPort: 1, families: ['IPv4', 'IPv6'] })).toMatchObject({ spec: { ipFamilyPolicy: 'RequireDualStack' } });
    expect(loadBalancer({ namespace: 'a', name: 's', app: 'x', targetPort: 1, pool: 'bgp' })).toMatchObject({ metadata: { annotations: { 'herald.io/address-pool': 'bgp' } }, spec: { ipFamilyPolicy: 'SingleStack' } });
  });

  it('makes one List for kubectl apply', () => {
    expect(JSON.parse(applyStream([herald('IPAddressPool', 'p', 'ns', { addresses: ['192.0.2.0/28'] })]))).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'herald.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p', namespace: 'ns' }, spec: { addresses: ['192.0.2.0/28'] } }],
    });
  });

  it('points the chart at the registry references, repository and tag apart, keeping other values', () => {
    expect(imageValues({ controller: '203.0.113.1:5000/herald/controller:e2e1', speaker: '203.0.113.1:5000/herald/speaker:e2e1' }, { speaker: { logLevel: 'debug' } })).toEqual({
      controller: { image: { repository: '203.0.113.1:5000/herald/controller', tag: 'e2e1', pullPolicy: 'IfNotPresent' } },
      speaker: { logLevel: 'debug', image: { repository: '203.0.113.1:5000/herald/speaker', tag: 'e2e1', pullPolicy: 'IfNotPresent' } },
    });
  });
});
