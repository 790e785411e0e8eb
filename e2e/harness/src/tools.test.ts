import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from './errors.js';
import { resolveTools, toolsCacheDir } from './tools.js';

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
