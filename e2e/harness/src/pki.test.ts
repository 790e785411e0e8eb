import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientKubeconfig, createPki, issueClientCert } from './pki.js';

const text = (cert: string): string => execFileSync('openssl', ['x509', '-in', cert, '-noout', '-text'], { encoding: 'utf8' });

describe('the test PKI', () => {
  it('adds extra serving names, and issues client certificates whose subject Kubernetes reads as user and groups', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-pki-'));
    try {
      const pki = createPki(join(dir, 'pki'), { extraSans: ['203.0.113.1', 'fd00::1', 'api.example'] });
      expect(text(pki.servingCert)).toMatch(/IP Address:203\.0\.113\.1, IP Address:FD00:0:0:0:0:0:0:1, DNS:api\.example/);
      const node = issueClientCert(pki, 'kubelet-node-1', 'system:node:node-1', ['system:nodes']);
      const t = text(node.cert);
      expect(t).toContain('Subject: O = system:nodes, CN = system:node:node-1');
      expect(t).toContain('TLS Web Client Authentication');
      const kc = clientKubeconfig(pki, 'https://203.0.113.1:6443', node, 'system:node:node-1');
      expect(kc).toContain('- name: system:node:node-1\n');
      expect(kc).toContain('    user: system:node:node-1\n');
      expect(kc).toContain('server: https://203.0.113.1:6443');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
