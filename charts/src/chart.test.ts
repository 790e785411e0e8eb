import { beforeAll, describe, expect, it } from '@jest/globals';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1PodDisruptionBudget,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCrds } from '@herald/shared';
import { parse } from 'yaml';
import { CHART_DIR, only, render, renderRaw, runHelm, type Manifest, type Values } from './helm.js';

const NS = 'herald-system';

function container<T extends { spec?: { template: { spec?: { containers: V1Container[] } } } }>(workload: T): V1Container {
  const c = workload.spec?.template.spec?.containers;
  expect(c).toHaveLength(1);
  return c?.[0] as V1Container;
}

/** The rules every Role and ClusterRole bound to `serviceAccount` grants. */
function rulesOf(objs: readonly Manifest[], serviceAccount: string): V1PolicyRule[] {
  const bound = (b: V1RoleBinding | V1ClusterRoleBinding): boolean =>
    (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === NS);
  const rules: V1PolicyRule[] = [];
  for (const b of objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') as unknown as Array<V1RoleBinding | V1ClusterRoleBinding>) {
    if (!bound(b)) continue;
    const role = only<V1Role | V1ClusterRole>(objs, b.roleRef.kind, b.roleRef.name);
    rules.push(...(role.rules ?? []));
  }
  return rules;
}

/** Whether any rule lets the subject use `verb` on `resource` (wildcards count). */
function grants(rules: readonly V1PolicyRule[], group: string, resource: string, verb: string): boolean {
  return rules.some(
    (r) =>
      (r.apiGroups ?? []).some((g) => g === group || g === '*') &&
      (r.resources ?? []).some((x) => x === resource || x === '*') &&
      (r.verbs ?? []).some((v) => v === verb || v === '*'),
  );
}

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

describe('the chart with default values', () => {
  let objs: Manifest[];
  beforeAll(() => {
    objs = render({ namespace: NS });
  });

  it('passes helm lint --strict, with every optional object turned on too', () => {
    for (const values of [{}, { loadBalancerClass: 'herald.io/lb', serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } }]) {
      const r = runHelm(['lint', '--strict', CHART_DIR], { values });
      expect({ status: r.status, out: r.stdout + r.stderr }).toMatchObject({ status: 0 });
      expect(r.stdout).toContain('0 chart(s) failed');
    }
  });

  it('ships exactly the CRDs the zod schemas generate, and none from templates', () => {
    const withCrds = render({ namespace: NS, includeCrds: true });
    const shipped = withCrds.filter((o) => o.kind === 'CustomResourceDefinition');
    const generated = generateCrds().map((f) => f.crd as unknown as Manifest);
    expect(shipped.map((c) => c.metadata.name).sort()).toEqual(generated.map((c) => c.metadata.name).sort());
    for (const crd of generated) expect(only(shipped, 'CustomResourceDefinition', crd.metadata.name)).toEqual(crd);
    expect(objs.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
  });

  it('puts every namespaced object in the release namespace', () => {
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding']);
    for (const o of objs) expect({ obj: `${o.kind}/${o.metadata.name}`, ns: o.metadata.namespace }).toEqual({ obj: `${o.kind}/${o.metadata.name}`, ns: clusterScoped.has(o.kind) ? undefined : NS });
  });

  it('runs two leader-electing controller replicas as non-root with a read-only root and no capabilities', () => {
    const d = only<V1Deployment>(objs, 'Deployment', 'herald-controller');
    expect(d.spec?.replicas).toBe(2);
    const pod = d.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe('herald-controller');
    expect(pod?.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod?.hostNetwork).toBeUndefined();
    const c = container(d);
    expect(c.image).toBe('ghcr.io/herald-lb/controller:0.1.0');
    expect(c.args).toEqual(['--namespace=herald-system', '--leader-elect', '--log-level=info', '--metrics-addr=0.0.0.0:7472', '--health-addr=0.0.0.0:7473']);
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(c.ports).toEqual([
      { name: 'metrics', containerPort: 7472, protocol: 'TCP' },
      { name: 'health', containerPort: 7473, protocol: 'TCP' },
    ]);
    expect(c.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources?.limits).toMatchObject({ memory: expect.any(String) });
  });

  it('keeps one controller replica through voluntary disruptions', () => {
    const pdb = only<V1PodDisruptionBudget>(objs, 'PodDisruptionBudget');
    const d = only<V1Deployment>(objs, 'Deployment');
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(pdb.spec?.selector).toEqual(d.spec?.selector);
    for (const [k, v] of Object.entries(d.spec?.selector.matchLabels ?? {})) expect(d.spec?.template.metadata?.labels?.[k]).toBe(v);
  });

  it('runs the speaker on the host network with CAP_NET_RAW as its only capability', () => {
    const ds = only<V1DaemonSet>(objs, 'DaemonSet', 'herald-speaker');
    const pod = ds.spec?.template.spec;
    expect(pod?.hostNetwork).toBe(true);
    expect(pod?.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod?.serviceAccountName).toBe('herald-speaker');
    expect(pod?.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    const c = container(ds);
    expect(c.securityContext).toEqual({
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'], add: ['NET_RAW'] },
    });
    expect(c.image).toBe('ghcr.io/herald-lb/speaker:0.1.0');
    expect(c.args).toEqual([
      '--namespace=herald-system',
      '--log-level=info',
      '--metrics-addr=0.0.0.0:7474',
      '--health-addr=0.0.0.0:7475',
      '--memberlist-port=7946',
      '--memberlist-secret=herald-memberlist',
    ]);
    expect(c.env).toEqual([{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
    expect(c.ports).toContainEqual({ name: 'memberlist', containerPort: 7946, protocol: 'UDP' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(c.resources?.limits).toMatchObject({ memory: expect.any(String) });
  });

  it('schedules the speaker on control-plane nodes too, and only on Linux', () => {
    const pod = only<V1DaemonSet>(objs, 'DaemonSet').spec?.template.spec;
    expect(pod?.tolerations).toEqual([{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('creates the memberlist Secret with a random 32-byte key under "secretkey"', () => {
    const s = only<V1Secret>(objs, 'Secret');
    expect(s.metadata?.name).toBe('herald-memberlist');
    expect(Object.keys(s.data ?? {})).toEqual(['secretkey']);
    expect(Buffer.from(s.data?.['secretkey'] ?? '', 'base64')).toHaveLength(32);
    const again = only<V1Secret>(render({ namespace: NS }), 'Secret');
    expect(again.data?.['secretkey']).not.toBe(s.data?.['secretkey']);
  });

  it('grants the controller exactly what controller/src calls, and no Secrets', () => {
    expect(only<V1ClusterRole>(objs, 'ClusterRole', 'herald-controller').rules).toEqual([
      { apiGroups: [''], resources: ['services', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['services/status'], verbs: ['update'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    expect(only<V1Role>(objs, 'Role', 'herald-controller').rules).toEqual([
      { apiGroups: ['herald.io'], resources: ['ipaddresspools', 'l2advertisements', 'bgpadvertisements', 'bgppeers', 'bfdprofiles', 'communities'], verbs: ['list', 'watch'] },
      {
        apiGroups: ['herald.io'],
        resources: ['ipaddresspools/status', 'l2advertisements/status', 'bgpadvertisements/status', 'bgppeers/status', 'bfdprofiles/status', 'communities/status'],
        verbs: ['update'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['herald-controller'], verbs: ['get', 'update'] },
    ]);
    const rules = rulesOf(objs, 'herald-controller');
    expect(rules).toHaveLength(7);
    for (const verb of ['get', 'list', 'watch']) expect(grants(rules, '', 'secrets', verb)).toBe(false);
  });

  it('grants the speaker exactly what speaker/src calls, and only the memberlist Secret', () => {
    expect(only<V1ClusterRole>(objs, 'ClusterRole', 'herald-speaker').rules).toEqual([
      { apiGroups: [''], resources: ['nodes', 'services'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    expect(only<V1Role>(objs, 'Role', 'herald-speaker').rules).toEqual([
      { apiGroups: ['herald.io'], resources: ['ipaddresspools', 'l2advertisements', 'bgppeers', 'bgpadvertisements', 'bfdprofiles', 'communities'], verbs: ['list', 'watch'] },
      { apiGroups: ['herald.io'], resources: ['servicel2statuses', 'servicebgpstatuses', 'bgpsessionstates'], verbs: ['list', 'watch', 'create', 'delete'] },
      { apiGroups: ['herald.io'], resources: ['servicel2statuses/status', 'servicebgpstatuses/status', 'bgpsessionstates/status'], verbs: ['patch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'watch', 'get', 'create', 'update', 'delete'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['herald-memberlist'], verbs: ['get'] },
    ]);
    const secretRules = rulesOf(objs, 'herald-speaker').filter((r) => r.resources?.includes('secrets'));
    expect(secretRules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['herald-memberlist'], verbs: ['get'] }]);
  });

  it('lets neither component write Services, only the controller their status', () => {
    for (const sa of ['herald-controller', 'herald-speaker']) {
      const rules = rulesOf(objs, sa);
      for (const verb of WRITE_VERBS) expect({ sa, verb, services: grants(rules, '', 'services', verb) }).toEqual({ sa, verb, services: false });
      for (const verb of ['create', 'patch', 'delete']) expect(grants(rules, '', 'services/status', verb)).toBe(false);
    }
    expect(grants(rulesOf(objs, 'herald-controller'), '', 'services/status', 'update')).toBe(true);
    expect(grants(rulesOf(objs, 'herald-speaker'), '', 'services/status', 'update')).toBe(false);
  });

  it('uses no wildcard in any rule', () => {
    for (const role of objs.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole') as unknown as V1Role[]) {
      for (const r of role.rules ?? []) expect(JSON.stringify(r)).not.toContain('*');
    }
  });

  it('binds each role to its own ServiceAccount in the release namespace', () => {
    for (const component of ['controller', 'speaker']) {
      const name = `herald-${component}`;
      only(objs, 'ServiceAccount', name);
      for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
        const b = only<V1RoleBinding>(objs, kind, name);
        expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name, namespace: NS }]);
        expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name });
      }
    }
  });

  it('renders no Prometheus Operator objects unless asked', () => {
    expect(objs.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
    expect(objs.filter((o) => o.kind === 'Service')).toEqual([]);
  });
});

describe('the chart with non-default values', () => {
  const values: Values = {
    fullnameOverride: 'lb',
    loadBalancerClass: 'herald.io/lb',
    logLevel: 'warn',
    imagePullSecrets: [{ name: 'regcred' }],
    controller: { replicas: 3, logLevel: 'debug', image: { tag: 'v9.9.9' }, metricsPort: 9472 },
    speaker: {
      memberlist: { port: 7947, secretName: 'gossip-key' },
      peerPasswordSecrets: ['tor-a-md5', 'tor-b-md5'],
      tolerations: [{ operator: 'Exists' }],
      metricsPort: 9474,
    },
    serviceMonitor: { enabled: true, labels: { release: 'prom' }, interval: '15s' },
    prometheusRule: { enabled: true, poolExhaustionThreshold: 0.8, for: '10m' },
  };
  let objs: Manifest[];
  beforeAll(() => {
    objs = render({ namespace: NS, release: 'other', values });
  });

  it('passes the loadBalancerClass and log levels to both binaries', () => {
    const ctrl = container(only<V1Deployment>(objs, 'Deployment', 'lb-controller'));
    const spk = container(only<V1DaemonSet>(objs, 'DaemonSet', 'lb-speaker'));
    expect(ctrl.args).toEqual(expect.arrayContaining(['--lb-class=herald.io/lb', '--log-level=debug', '--metrics-addr=0.0.0.0:9472']));
    expect(spk.args).toEqual(expect.arrayContaining(['--lb-class=herald.io/lb', '--log-level=warn', '--metrics-addr=0.0.0.0:9474', '--memberlist-port=7947', '--memberlist-secret=gossip-key']));
    expect(ctrl.image).toBe('ghcr.io/herald-lb/controller:v9.9.9');
    expect(only<V1Deployment>(objs, 'Deployment').spec?.template.spec?.imagePullSecrets).toEqual([{ name: 'regcred' }]);
  });

  it('lets the speaker read the renamed memberlist Secret and the BGP password Secrets, nothing else', () => {
    expect(only<V1Secret>(objs, 'Secret').metadata?.name).toBe('gossip-key');
    expect(rulesOf(objs, 'lb-speaker').filter((r) => r.resources?.includes('secrets'))).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gossip-key', 'tor-a-md5', 'tor-b-md5'], verbs: ['get'] },
    ]);
  });

  it('tolerates every taint when told to', () => {
    expect(only<V1DaemonSet>(objs, 'DaemonSet').spec?.template.spec?.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('creates a ServiceMonitor per component that selects a metrics Service selecting its pods', () => {
    for (const component of ['controller', 'speaker']) {
      const sm = only<{ metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<Record<string, unknown>>; namespaceSelector: unknown } }>(objs, 'ServiceMonitor', `lb-${component}`);
      expect(sm.metadata.labels['release']).toBe('prom');
      expect(sm.spec.namespaceSelector).toEqual({ matchNames: [NS] });
      expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', interval: '15s' });
      const svc = only<V1Service>(objs, 'Service', `lb-${component}-metrics`);
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata?.labels?.[k]).toBe(v);
      expect(svc.spec?.clusterIP).toBe('None');
      expect(svc.spec?.ports).toEqual([{ name: 'metrics', port: component === 'controller' ? 9472 : 9474, targetPort: 'metrics', protocol: 'TCP' }]);
      const workload = objs.find((o) => (o.kind === 'Deployment' || o.kind === 'DaemonSet') && o.metadata.name === `lb-${component}`) as V1Deployment | undefined;
      for (const [k, v] of Object.entries(svc.spec?.selector ?? {})) expect(workload?.spec?.template.metadata?.labels?.[k]).toBe(v);
    }
  });

  it('alerts on a nearly exhausted pool, a BGP session down and an IP nobody announces', () => {
    const rule = only<{ spec: { groups: Array<{ rules: Array<{ alert: string; expr: string; for: string; labels: Record<string, string> }> }> } }>(objs, 'PrometheusRule');
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(['HeraldPoolNearlyExhausted', 'HeraldBGPSessionDown', 'HeraldIPWithoutAnnouncer']);
    for (const r of rules) expect(r.for).toBe('10m');
    expect(rules[0]?.expr).toContain('herald_pool_addresses_in_use');
    expect(rules[0]?.expr).toContain('>= 0.8');
    expect(rules[1]?.expr).toContain('herald_bgp_session_up');
    expect(rules[2]?.expr).toContain('herald_l2_owned_ips');
    // Prometheus, not Helm, fills these in.
    expect(JSON.stringify(rule)).toContain('{{ $labels.pool }}');
  });

  it('drops alerts one by one, and the rule when none is left', () => {
    const some = render({ namespace: NS, values: { prometheusRule: { enabled: true, alerts: { bgpSessionDown: false } } } });
    const alerts = only<{ spec: { groups: Array<{ rules: Array<{ alert: string }> }> } }>(some, 'PrometheusRule').spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts).toEqual(['HeraldPoolNearlyExhausted', 'HeraldIPWithoutAnnouncer']);
    const none = render({ namespace: NS, values: { prometheusRule: { enabled: true, alerts: { poolNearlyExhausted: false, bgpSessionDown: false, ipWithoutAnnouncer: false } } } });
    expect(none.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
  });

  it('leaves out the PodDisruptionBudget for a single replica, which it would pin forever', () => {
    const one = render({ namespace: NS, values: { controller: { replicas: 1 } } });
    expect(only<V1Deployment>(one, 'Deployment').spec?.replicas).toBe(1);
    expect(one.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    expect(container(only<V1Deployment>(one, 'Deployment')).args).toContain('--leader-elect');
  });

  it('creates no Secret when the memberlist key is brought along, but still lets the speaker read it', () => {
    const byo = render({ namespace: NS, values: { speaker: { memberlist: { create: false, secretName: 'mine' } } } });
    expect(byo.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(only<V1Role>(byo, 'Role', 'herald-speaker').rules?.find((r) => r.resources?.includes('secrets'))?.resourceNames).toEqual(['mine']);
  });
});

describe('values.schema.json', () => {
  function failure(values: Values): string {
    const r = renderRaw({ values });
    expect(r.status).not.toBe(0);
    return r.stderr;
  }

  it('fails a misspelt key with its path and name', () => {
    expect(failure({ controller: { replica: 3 } })).toContain("at '/controller': additional properties 'replica' not allowed");
    expect(failure({ loglevel: 'debug' })).toContain("additional properties 'loglevel' not allowed");
    expect(failure({ speaker: { memberList: {} } })).toContain("at '/speaker': additional properties 'memberList' not allowed");
  });

  it('fails a wrong value naming what is allowed', () => {
    expect(failure({ logLevel: 'verbose' })).toContain("at '/logLevel': value must be one of 'trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'");
    expect(failure({ controller: { replicas: 0 } })).toContain("at '/controller/replicas': minimum: got 0, want 1");
    expect(failure({ speaker: { memberlist: { port: 70000 } } })).toContain("at '/speaker/memberlist/port'");
    expect(failure({ loadBalancerClass: 'Not A Class' })).toContain("at '/loadBalancerClass'");
    expect(failure({ prometheusRule: { for: 'five minutes' } })).toContain("at '/prometheusRule/for'");
  });

  it('describes every key values.yaml sets', () => {
    const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Values;
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as SchemaNode;
    const missing: string[] = [];
    const walk = (v: unknown, s: SchemaNode | undefined, path: string): void => {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !s?.properties) return;
      for (const [k, child] of Object.entries(v)) {
        const cs = s.properties[k];
        if (!cs) missing.push(`${path}/${k}`);
        walk(child, cs, `${path}/${k}`);
      }
    };
    walk(defaults, schema, '');
    expect(missing).toEqual([]);
  });
});

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
}
