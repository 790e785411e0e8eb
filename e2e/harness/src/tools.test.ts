import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from './errors.js';
import { helmCacheDir, resolveClusterTools, resolveHelm, resolveTools, toolsCacheDir } from './tools.js';
import { CRICTL_VERSION, DISTRIBUTION_VERSION, HELM_VERSION } from './versions.js';

function thrown(fn: () => unknown): HarnessError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HarnessError) return err;
    throw err;
  }
  throw new Error('expected a HarnessError');
}

describe('finding the control-plane binaries', () => {
  it('names what KUBEBUILDER_ASSETS lacks and every way to supply the binaries', () => {
    const empty = mkdtempSync(join(tmpdir(), 'herald-assets-'));
    try {
      const err = thrown(() => resolveTools({ env: { KUBEBUILDER_ASSETS: empty }, build: false }));
      expect(err.code).toBe('ToolsMissing');
      expect(err.message).toContain(`KUBEBUILDER_ASSETS=${empty} lacks etcd, kube-apiserver, kubectl`);
      expect(err.message).toContain('install Go');
      expect(err.message).toContain('npm run control-plane -- tools');
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('refuses to build when told not to, naming the cache it looked in', () => {
    const cache = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    try {
      const env = { HERALD_TOOLS_CACHE: cache };
      const err = thrown(() => resolveTools({ env, build: false }));
      expect(err.code).toBe('ToolsMissing');
      expect(err.message).toContain(toolsCacheDir(env));
    } finally {
      rmSync(cache, { recursive: true });
    }
  });
});

describe('finding helm', () => {
  it('refuses a HERALD_HELM that is not an executable file, naming every way to supply helm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-helm-'));
    try {
      const err = thrown(() => resolveHelm({ env: { HERALD_HELM: dir }, build: false }));
      expect(err.code).toBe('ToolsMissing');
      expect(err.message).toContain(`HERALD_HELM=${dir} is not an executable file`);
      expect(err.message).toContain(`helm ${HELM_VERSION}`);
      expect(err.message).toContain('npm run control-plane -- tools');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('takes HERALD_HELM first, then the versioned cache folder', () => {
    const cache = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    try {
      const env = { HERALD_TOOLS_CACHE: cache };
      expect(thrown(() => resolveHelm({ env, build: false })).message).toContain(join(cache, `helm-v${HELM_VERSION}`, 'helm'));
      mkdirSync(helmCacheDir(env), { recursive: true });
      const cached = join(helmCacheDir(env), 'helm');
      writeFileSync(cached, '#!/bin/sh\n');
      chmodSync(cached, 0o755);
      expect(resolveHelm({ env, build: false })).toEqual({ helm: cached, source: 'cache' });
      expect(resolveHelm({ env: { ...env, HERALD_HELM: cached }, build: false }).source).toBe('HERALD_HELM');
    } finally {
      rmSync(cache, { recursive: true });
    }
  });
});

describe('finding the multi-node cluster binaries', () => {
  const fake = (file: string): void => {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o755);
  };

  it('names every missing binary and how to build them when told not to build', () => {
    const cache = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    try {
      const env = { HERALD_TOOLS_CACHE: cache };
      for (const b of ['etcd', 'kube-apiserver', 'kubectl', 'kubelet']) fake(join(toolsCacheDir(env), b));
      const err = thrown(() => resolveClusterTools({ env, build: false }));
      expect(err.code).toBe('ToolsMissing');
      expect(err.message).toContain(join(toolsCacheDir(env), 'kube-proxy'));
      expect(err.message).toContain(join(cache, `crictl-v${CRICTL_VERSION}`, 'crictl'));
      expect(err.message).not.toContain(join(toolsCacheDir(env), 'kubelet,'));
      expect(err.message).toContain('npm run cluster -- tools');
    } finally {
      rmSync(cache, { recursive: true });
    }
  });

  it('finds them in the versioned cache folders', () => {
    const cache = mkdtempSync(join(tmpdir(), 'herald-cache-'));
    try {
      const env = { HERALD_TOOLS_CACHE: cache };
      const k8s = toolsCacheDir(env);
      for (const b of ['etcd', 'kube-apiserver', 'kubectl', 'kubelet', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager']) fake(join(k8s, b));
      fake(join(cache, `crictl-v${CRICTL_VERSION}`, 'crictl'));
      fake(join(cache, `distribution-v${DISTRIBUTION_VERSION}`, 'registry'));
      const t = resolveClusterTools({ env, build: false });
      expect([t.source, t.kubelet, t.kubeControllerManager, t.registry, t.controlPlane.kubeApiserver]).toEqual([
        'cache',
        join(k8s, 'kubelet'),
        join(k8s, 'kube-controller-manager'),
        join(cache, `distribution-v${DISTRIBUTION_VERSION}`, 'registry'),
        join(k8s, 'kube-apiserver'),
      ]);
    } finally {
      rmSync(cache, { recursive: true });
    }
  });
});
