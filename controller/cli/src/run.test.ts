import { describe, expect, it } from '@jest/globals';
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import { HeraldError, kubeError } from '@herald/shared/core';
import type { ClusterApi, CrdInfo, ListCustom } from './api.js';
import { run, type RunDeps } from './run.js';
import { NOW, NS, l2Status, pool, service } from './__fixtures__/world.js';

/** A cluster in memory: custom objects by plural, core objects by kind. */
function fakeApi(o: { namespaces?: string[]; services?: V1Service[]; custom?: Record<string, unknown[]>; crds?: CrdInfo[]; fail?: unknown } = {}): ClusterApi {
  const guard = async <T>(v: T): Promise<T> => {
    if (o.fail !== undefined) throw o.fail;
    return v;
  };
  const namespaces = o.namespaces ?? [NS, 'a'];
  return {
    readNamespace: (name) => guard(namespaces.includes(name) ? ({ metadata: { name } } as V1Namespace) : undefined),
    readService: (ns, name) => guard((o.services ?? []).find((s) => s.metadata?.namespace === ns && s.metadata.name === name)),
    listServices: () => guard(o.services ?? []),
    listNodes: () => guard([]),
    listEndpointSlices: () => guard([]),
    listLeases: () => guard([]),
    listServiceEvents: () => guard([]),
    listCustom: (req: ListCustom) => guard(o.custom?.[`${req.group}/${req.plural}`] ?? []),
    listCrds: () => guard(o.crds ?? []),
  };
}

function deps(api: ClusterApi, files: Record<string, string> = {}): RunDeps {
  return {
    api: () => api,
    now: () => NOW,
    readInput: async (f) => {
      const text = files[f];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${f}'`), { code: 'ENOENT' });
      return text;
    },
    env: {},
  };
}

const poolWithStatus = pool('p', { addresses: ['10.0.0.0/30'] }, { assignedIPv4: 1, availableIPv4: 3, conditions: [{ type: 'Valid', status: 'True', reason: 'Valid', message: 'ok', lastTransitionTime: '2025-01-01T00:00:00Z' }] });
const web = service('a', 'web', { ips: ['10.0.0.0'], pool: 'p' });

describe('run: exit codes and messages a script can rely on', () => {
  it('status exits 0 when nothing is wrong', async () => {
    const r = await run(['status'], deps(fakeApi({ services: [web], custom: { 'herald.io/ipaddresspools': [poolWithStatus], 'herald.io/servicel2statuses': [l2Status('a', 'web', 'n1')] } })));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('1/4 (25%)');
  });

  it('status exits 1 and lists the problem when a Service is not announced; -o json carries healthy: false', async () => {
    const api = fakeApi({ services: [web], custom: { 'herald.io/ipaddresspools': [poolWithStatus] } });
    const r = await run(['status', '-o', 'json'], deps(api));
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { healthy: boolean; problems: string[] };
    expect(out.healthy).toBe(false);
    expect(out.problems).toEqual(['Service a/web has 10.0.0.0 but no node reports announcing it (run: herald explain a/web)']);
  });

  it('explain exits 0 for an announced Service and 1 for one without an IP', async () => {
    const pending = service('a', 'pending', { condition: { status: 'False', reason: 'PoolExhausted', message: 'full' } });
    const api = fakeApi({ services: [web, pending], custom: { 'herald.io/ipaddresspools': [poolWithStatus], 'herald.io/servicel2statuses': [l2Status('a', 'web', 'n1')] } });
    expect((await run(['explain', 'a/web'], deps(api))).code).toBe(0);
    const r = await run(['explain', 'a/pending', '-o', 'yaml'], deps(api));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('healthy: false');
  });

  it.each([
    [['explain', 'a/nope'], 'herald: service a/nope not found\n'],
    [['status', '-n', 'missing'], "herald: namespace missing not found: pass Herald's namespace with -n\n"],
    [['import-metallb', '--from-cluster'], 'herald: no metallb.io CRDs in the cluster: is MetalLB installed? (or use -f FILE)\n'],
    [['import-metallb', '-f', 'gone.yaml'], 'herald: -f gone.yaml: no such file\n'],
  ])('%j exits 3: %s', async (argv, stderr) => {
    expect(await run(argv, deps(fakeApi()))).toEqual({ stdout: '', stderr, code: 3 });
  });

  it('exits 3 when the API cannot be reached or refuses', async () => {
    const down = kubeError('list services', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    expect(await run(['status'], deps(fakeApi({ fail: down })))).toEqual({ stdout: '', stderr: 'herald: list services: connect ECONNREFUSED 127.0.0.1:1\n', code: 3 });
    const forbidden = { code: 403, body: { kind: 'Status', message: 'services is forbidden' } };
    const r = await run(['status'], deps(fakeApi({ fail: forbidden })));
    expect(r.code).toBe(3);
    expect((await run(['status'], deps(fakeApi({ fail: new HeraldError('Timeout', 'list services: no answer within 10 ms') })))).code).toBe(3);
  });

  it('exits 2 with a hint on usage errors and malformed input, and 0 on --help', async () => {
    expect(await run(['statu'], deps(fakeApi()))).toEqual({ stdout: '', stderr: 'herald: unknown command "statu"\nRun "herald --help" for usage.\n', code: 2 });
    const bad = await run(['import-metallb', '-f', 'bad.yaml'], deps(fakeApi(), { 'bad.yaml': 'a: [\n' }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^herald: bad\.yaml: invalid YAML: /);
    const help = await run(['--help'], deps(fakeApi()));
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
  });

  it('exits 4 on a bug, naming it an internal error', async () => {
    const r = await run(['status'], deps(fakeApi({ fail: new TypeError('x is undefined') })));
    expect(r).toEqual({ stdout: '', stderr: 'herald: internal error: x is undefined\n', code: 4 });
  });

  it('import-metallb writes YAML to stdout, problems and a summary to stderr, and exits 1 on a loss', async () => {
    const files = {
      'ok.yaml': 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [10.0.0.0/24]}\n',
      'lossy.yaml': 'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: r}\nspec: {myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, interface: eth0}\n',
    };
    const ok = await run(['import-metallb', '-f', 'ok.yaml', '-n', 'lb'], deps(fakeApi(), files));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('namespace: lb');
    expect(ok.stderr).toBe('herald: converted 1 object(s) into namespace lb; 0 error(s), 0 warning(s), 0 note(s)\n');
    const lossy = await run(['import-metallb', '-f', 'lossy.yaml'], deps(fakeApi(), files));
    expect(lossy.code).toBe(1);
    expect(lossy.stderr.split('\n')[0]).toBe('herald: warning: metallb.io/v1beta2 BGPPeer r: spec.interface: Herald has no such field: dropped');
    expect(lossy.stdout).toContain('kind: BGPPeer');
  });

  it('import-metallb --from-cluster lists each convertible CRD at its storage version and notes status kinds', async () => {
    const api = fakeApi({
      crds: [
        { kind: 'IPAddressPool', plural: 'ipaddresspools', version: 'v1beta1', namespaced: true },
        { kind: 'ServiceL2Status', plural: 'servicel2statuses', version: 'v1beta1', namespaced: true },
      ],
      custom: { 'metallb.io/ipaddresspools': [{ metadata: { name: 'p', namespace: 'metallb-system' }, spec: { addresses: ['10.0.0.0/24'] } }] },
    });
    const r = await run(['import-metallb', '--from-cluster', '-o', 'json'], deps(api));
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { items: { kind: string }[] }).items.map((i) => i.kind)).toEqual(['IPAddressPool']);
    expect(r.stderr).toContain('herald: note: metallb.io/v1beta1 ServiceL2Status *: status kind written by MetalLB: not imported');
  });
});
