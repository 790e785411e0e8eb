import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from './errors.js';
import { helmCacheDir, resolveHelm, resolveTools, toolsCacheDir } from './tools.js';
import { HELM_VERSION } from './versions.js';

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
