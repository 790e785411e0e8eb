import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeraldError } from '../core/errors.js';
import { loadKubeConfig } from './config.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:6443/
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: abc
contexts:
- name: test
  context: { cluster: test, user: admin }
current-context: test
`;

describe('loadKubeConfig', () => {
  const saved = { ...process.env };
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-kc-'));
    delete process.env['KUBECONFIG'];
    delete process.env['KUBERNETES_SERVICE_HOST'];
    delete process.env['KUBERNETES_SERVICE_PORT'];
    process.env['HOME'] = dir; // no ~/.kube/config
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(dir, { recursive: true, force: true });
  });

  const expectInvalid = (fn: () => unknown, message: RegExp): void => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(HeraldError);
      expect((err as HeraldError).code).toBe('InvalidConfig');
      expect((err as HeraldError).message).toMatch(message);
      return;
    }
    throw new Error('expected loadKubeConfig to throw');
  };

  it('loads the file it is given', () => {
    const file = join(dir, 'kc.yaml');
    writeFileSync(file, KUBECONFIG);
    const kc = loadKubeConfig(file);
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it('names the file when it is missing or has no usable context', () => {
    expectInvalid(() => loadKubeConfig(join(dir, 'nope.yaml')), /nope\.yaml.*ENOENT/);
    const file = join(dir, 'empty-context.yaml');
    writeFileSync(file, KUBECONFIG.replace('current-context: test', 'current-context: other'));
    expectInvalid(() => loadKubeConfig(file), /empty-context\.yaml: no current context/);
  });

  it('uses $KUBECONFIG when no path is given', () => {
    const file = join(dir, 'env.yaml');
    writeFileSync(file, KUBECONFIG);
    process.env['KUBECONFIG'] = file;
    expect(loadKubeConfig().getCurrentCluster()?.name).toBe('test');
  });

  it('refuses in-cluster config without a service account token', () => {
    process.env['KUBERNETES_SERVICE_HOST'] = '10.96.0.1';
    process.env['KUBERNETES_SERVICE_PORT'] = '443';
    expectInvalid(() => loadKubeConfig(), /no service account token/);
    delete process.env['KUBERNETES_SERVICE_PORT'];
    expectInvalid(() => loadKubeConfig(), /KUBERNETES_SERVICE_PORT/);
  });

  it('says what to do when there is no configuration at all, instead of using localhost:8080', () => {
    expectInvalid(() => loadKubeConfig(), /no Kubernetes configuration: pass --kubeconfig/);
  });
});
