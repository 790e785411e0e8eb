import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { V1DaemonSet, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { resolveTools, testKubeconfigPath } from '@herald/e2e-harness';
import { stringify } from 'yaml';
import { CHART_DIR, render, runHelm, type Manifest, type Values } from './helm.js';

const kubeconfig = testKubeconfigPath();
const tools = resolveTools({ build: false });
const suffix = randomBytes(3).toString('hex');
/** Deleted without waiting at the end: the test control plane has no namespace controller to finalise them. */
const namespaces: string[] = [];

function kubectl(args: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(tools.kubectl, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function newNamespace(prefix: string): string {
  const ns = `${prefix}-${suffix}`;
  const r = kubectl(['create', 'namespace', ns]);
  if (r.status !== 0) throw new Error(`create namespace ${ns}: ${r.stderr}`);
  namespaces.push(ns);
  return ns;
}

function getJson<T>(args: readonly string[]): T {
  const r = kubectl(['get', ...args, '-o', 'json']);
  if (r.status !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function exists(args: readonly string[]): boolean {
  const r = kubectl(['get', ...args, '--ignore-not-found', '-o', 'name']);
  if (r.status !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() !== '';
}

/** `kubectl apply --server-side --dry-run=server` with strict field validation: the API server's verdict, nothing stored. */
function dryRunApply(objs: readonly Manifest[]): { status: number; stdout: string; stderr: string } {
  const text = objs.map((o) => stringify(o)).join('---\n');
  return kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=herald-chart-test', '-f', '-'], text);
}

/** Whether the API server's RBAC lets `serviceAccount` do `what` (kubectl auth can-i arguments). */
function can(namespace: string, serviceAccount: string, what: readonly string[]): boolean {
  const r = kubectl(['auth', 'can-i', ...what, `--as=system:serviceaccount:${namespace}:${serviceAccount}`]);
  if (r.stdout.trim() !== 'yes' && r.stdout.trim() !== 'no') throw new Error(`kubectl auth can-i ${what.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim() === 'yes';
}

function helm(args: readonly string[], values?: Values): string {
  const r = runHelm(args, { kubeconfig, ...(values ? { values } : {}) });
  if (r.status !== 0) throw new Error(`helm ${args[0]} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

afterAll(() => {
  for (const ns of namespaces) kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
});

describe('rendered manifests against the API server (server-side dry run)', () => {
  const nonDefault: Values = {
    loadBalancerClass: 'herald.io/lb',
    logLevel: 'debug',
    controller: { replicas: 3, priorityClassName: 'system-cluster-critical', topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'controller' } } }] },
    speaker: { peerPasswordSecrets: ['tor-md5'], tolerations: [{ operator: 'Exists' }], memberlist: { secretName: 'gossip' } },
  };

  it('accepts every object the default values render, CRDs included', () => {
    const ns = newNamespace('chart-dry');
    const objs = render({ release: `d${suffix}`, namespace: ns, includeCrds: true });
    const r = dryRunApply(objs);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    for (const o of objs) expect(r.stdout).toContain(`/${o.metadata.name} serverside-applied (server dry run)`);
  });

  it('accepts every object non-default values render (Prometheus Operator kinds aside: no such CRDs here)', () => {
    const ns = newNamespace('chart-dry2');
    const objs = render({ release: `n${suffix}`, namespace: ns, values: { ...nonDefault, serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } });
    const applicable = objs.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'));
    expect(objs.length - applicable.length).toBe(3);
    const r = dryRunApply(applicable);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout.trim().split('\n')).toHaveLength(applicable.length);
  });

  it('has teeth: a misspelt field in a rendered object is refused', () => {
    const ns = newNamespace('chart-dry3');
    const objs = render({ release: `t${suffix}`, namespace: ns });
    const d = objs.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
    const c = d.spec.template.spec.containers[0] ?? {};
    c['securityContext'] = { ...(c['securityContext'] as object), readOnlyRootFileSystem: true };
    const r = dryRunApply(objs);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('readOnlyRootFileSystem');
  });
});

describe('helm install, upgrade and uninstall against the API server', () => {
  const release = `h${suffix}`;
  const full = `${release}-herald`;
  let ns: string;
  let installedKey: string;

  beforeAll(() => {
    ns = newNamespace('chart-life');
  });

  it('installs the controller, the speaker, their RBAC and the memberlist Secret', () => {
    helm(['install', release, CHART_DIR, '--namespace', ns]);
    const d = getJson<V1Deployment>(['deployment', `${full}-controller`, '-n', ns]);
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.template.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    const ds = getJson<V1DaemonSet>(['daemonset', `${full}-speaker`, '-n', ns]);
    expect(ds.spec?.template.spec?.hostNetwork).toBe(true);
    expect(ds.spec?.template.spec?.containers[0]?.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['NET_RAW'] });
    for (const obj of [['pdb', `${full}-controller`], ['serviceaccount', `${full}-controller`], ['serviceaccount', `${full}-speaker`], ['role', `${full}-controller`], ['rolebinding', `${full}-speaker`]]) {
      expect({ obj, exists: exists([...obj, '-n', ns]) }).toEqual({ obj, exists: true });
    }
    for (const name of [`${full}-controller`, `${full}-speaker`]) {
      expect(exists(['clusterrole', name])).toBe(true);
      expect(exists(['clusterrolebinding', name])).toBe(true);
    }
    const secret = getJson<V1Secret>(['secret', `${full}-memberlist`, '-n', ns]);
    installedKey = secret.data?.['secretkey'] ?? '';
    expect(Buffer.from(installedKey, 'base64')).toHaveLength(32);
  });

  it('lets the API server grant the controller what it calls and refuse it Secrets and Service writes', () => {
    const sa = `${full}-controller`;
    const allowed = [
      ['list', 'services', '-A'],
      ['watch', 'namespaces'],
      ['update', 'services', '--subresource=status', '-n', 'default'],
      ['create', 'events.events.k8s.io', '-n', 'default'],
      ['watch', 'ipaddresspools.herald.io', '-n', ns],
      ['update', 'ipaddresspools.herald.io', '--subresource=status', '-n', ns],
      ['create', 'leases.coordination.k8s.io', '-n', ns],
      ['update', 'leases.coordination.k8s.io/herald-controller', '-n', ns],
    ];
    const refused = [
      ['get', `secrets/${full}-memberlist`, '-n', ns],
      ['list', 'secrets', '-n', ns],
      ['watch', 'secrets', '-A'],
      ['update', 'services', '-n', 'default'],
      ['patch', 'services', '-n', 'default'],
      ['delete', 'services', '-n', 'default'],
      ['patch', 'services', '--subresource=status', '-n', 'default'],
      ['update', 'leases.coordination.k8s.io/someone-else', '-n', ns],
      ['list', 'ipaddresspools.herald.io', '-n', 'default'],
      ['update', 'ipaddresspools.herald.io', '-n', ns],
    ];
    expect(allowed.filter((w) => !can(ns, sa, w))).toEqual([]);
    expect(refused.filter((w) => can(ns, sa, w))).toEqual([]);
  });

  it('lets the API server grant the speaker what it calls and only its own Secret', () => {
    const sa = `${full}-speaker`;
    const allowed = [
      ['watch', 'nodes'],
      ['list', 'services', '-A'],
      ['watch', 'endpointslices.discovery.k8s.io', '-A'],
      ['create', 'events.events.k8s.io', '-n', 'default'],
      ['watch', 'l2advertisements.herald.io', '-n', ns],
      ['create', 'servicel2statuses.herald.io', '-n', ns],
      ['patch', 'servicel2statuses.herald.io', '--subresource=status', '-n', ns],
      ['delete', 'servicel2statuses.herald.io', '-n', ns],
      ['delete', 'leases.coordination.k8s.io', '-n', ns],
      ['get', `secrets/${full}-memberlist`, '-n', ns],
    ];
    const refused = [
      ['get', 'secrets/some-other-secret', '-n', ns],
      ['list', 'secrets', '-n', ns],
      ['get', `secrets/${full}-memberlist`, '-n', 'default'],
      ['update', 'services', '-n', 'default'],
      ['update', 'services', '--subresource=status', '-n', 'default'],
      ['update', 'nodes'],
      ['create', 'ipaddresspools.herald.io', '-n', ns],
      ['update', 'servicel2statuses.herald.io', '-n', ns],
    ];
    expect(allowed.filter((w) => !can(ns, sa, w))).toEqual([]);
    expect(refused.filter((w) => can(ns, sa, w))).toEqual([]);
  });

  it('keeps the memberlist key across an upgrade that changes everything else', () => {
    helm(['upgrade', release, CHART_DIR, '--namespace', ns], { logLevel: 'debug', loadBalancerClass: 'herald.io/lb', controller: { replicas: 3 } });
    const d = getJson<V1Deployment>(['deployment', `${full}-controller`, '-n', ns]);
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec?.template.spec?.containers[0]?.args).toEqual(expect.arrayContaining(['--log-level=debug', '--lb-class=herald.io/lb']));
    const secret = getJson<V1Secret>(['secret', `${full}-memberlist`, '-n', ns]);
    expect(secret.data).toEqual({ secretkey: installedKey });
    // And a second upgrade, from a release that itself kept the key.
    helm(['upgrade', release, CHART_DIR, '--namespace', ns, '--reuse-values']);
    expect(getJson<V1Secret>(['secret', `${full}-memberlist`, '-n', ns]).data).toEqual({ secretkey: installedKey });
  });

  it('removes everything it installed on uninstall, and leaves the CRDs', () => {
    helm(['uninstall', release, '--namespace', ns]);
    for (const obj of [['deployment', `${full}-controller`], ['daemonset', `${full}-speaker`], ['secret', `${full}-memberlist`], ['pdb', `${full}-controller`], ['serviceaccount', `${full}-speaker`], ['role', `${full}-speaker`]]) {
      expect({ obj, exists: exists([...obj, '-n', ns]) }).toEqual({ obj, exists: false });
    }
    for (const name of [`${full}-controller`, `${full}-speaker`]) {
      expect(exists(['clusterrole', name])).toBe(false);
      expect(exists(['clusterrolebinding', name])).toBe(false);
    }
    // helm never deletes crds/: custom resources in other namespaces survive an uninstall.
    expect(exists(['crd', 'ipaddresspools.herald.io'])).toBe(true);
    expect(kubectl(['get', 'secrets', '-n', ns, '-o', 'name']).stdout.trim()).toBe('');
  });
});
