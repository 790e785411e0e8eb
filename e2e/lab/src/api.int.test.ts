import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { resolveTools, testKubeconfigPath } from '@herald/e2e-harness';
import { forwardApiServer, kubeconfigServer, type ApiForward } from './api.js';
import { createLab, type Lab } from './lab.js';

const ROOT = process.getuid?.() === 0;
const describeRoot = ROOT ? describe : describe.skip;

describeRoot('the API server, forwarded into the lab (needs root)', () => {
  let lab: Lab;
  let fwd: ApiForward;
  let kubectl: string;
  beforeAll(async () => {
    kubectl = resolveTools({ build: false }).kubectl;
    const kubeconfigPath = testKubeconfigPath();
    lab = await createLab({ nodes: 2, client: true });
    fwd = await forwardApiServer(lab, kubeconfigServer(kubeconfigPath), { kubeconfigPath });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('answers kubectl from inside every node at the same https://127.0.0.1:PORT, TLS verified', async () => {
    expect(Object.keys(fwd.kubeconfigs).sort()).toEqual(['node-1', 'node-2']);
    for (const node of lab.nodes) {
      const r = await lab.exec(node, kubectl, ['--kubeconfig', fwd.kubeconfig(node), '--request-timeout=10s', 'get', 'ns', '-o', 'name']);
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n')).toContain('namespace/default');
    }
    expect(kubeconfigServer(fwd.kubeconfig('node-1'))).toBe(`https://127.0.0.1:${fwd.port}`);
  });

  it('is not reachable from a host it was not forwarded into', async () => {
    const r = await lab.exec('client', kubectl, ['--kubeconfig', fwd.kubeconfig('node-1'), '--request-timeout=2s', 'get', '--raw', '/version']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/refused/);
  });

  it('keeps serving many concurrent requests through one Unix socket', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => lab.exec(lab.nodes[i % 2] ?? 'node-1', kubectl, ['--kubeconfig', fwd.kubeconfig(lab.nodes[i % 2] ?? 'node-1'), 'get', '--raw', '/version'])),
    );
    for (const r of results) expect(JSON.parse(r.stdout)).toHaveProperty('gitVersion');
  });
});
