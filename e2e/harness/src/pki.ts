import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from './errors.js';

/** Files of a throw-away PKI for one control plane. */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  /** Service-account token signing key pair (kube-apiserver requires one). */
  readonly saKey: string;
  readonly saPub: string;
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new HarnessError('PkiFailed', `openssl ${args[0]} failed; is openssl installed?`, { cause: err });
  }
}

/**
 * Creates a fresh CA, a serving certificate for the API server (SANs: 127.0.0.1,
 * ::1, localhost and the in-cluster names, so clients inside network namespaces
 * that forward to loopback verify it too), and an admin client certificate in
 * group system:masters. ECDSA P-256 keys: generation is instant, unlike RSA.
 */
export function createPki(dir: string, opts: { extraSans?: readonly string[] } = {}): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (name: string): string => join(dir, name);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ecKey, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '30', '-subj', '/CN=herald-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);

  const sign = (name: string, subj: string, ext: string): void => {
    writeFileSync(p(`${name}.ext`), ext);
    openssl(['req', ...ecKey, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', subj]);
    openssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-days', '30', '-extfile', p(`${name}.ext`), '-out', p(`${name}.crt`)]);
  };
  sign('apiserver', '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
    `subjectAltName=IP:127.0.0.1,IP:::1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local${sanList(opts.extraSans ?? [])}\n`);
  sign('admin', '/O=system:masters/CN=herald-admin',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');

  const sa = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(p('sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(p('sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    servingCert: p('apiserver.crt'),
    servingKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}

/** `,IP:a,DNS:b` for extra serving-certificate names (addresses become IP entries). */
function sanList(names: readonly string[]): string {
  return names.map((n) => (/^[0-9.]+$|:/.test(n) ? `,IP:${n}` : `,DNS:${n}`)).join('');
}

/** A client certificate and its key, signed by a {@link Pki}'s CA. */
export interface ClientCert {
  readonly cert: string;
  readonly key: string;
}

/**
 * Issues a client certificate for `cn` (organisations become the Kubernetes groups,
 * e.g. `system:nodes`) into the PKI's folder as `NAME.crt` / `NAME.key`. Kubernetes
 * authenticates x509 clients by exactly these two fields.
 */
export function issueClientCert(pki: Pki, name: string, cn: string, orgs: readonly string[] = []): ClientCert {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new HarnessError('PkiFailed', `certificate file name ${JSON.stringify(name)}: want [a-z0-9.-]`);
  const p = (ext: string): string => join(pki.dir, `${name}.${ext}`);
  // openssl's -subj syntax: escape the separators it would otherwise split on.
  const esc = (v: string): string => v.replace(/[\\/=+,]/g, (c) => `\\${c}`);
  const subj = [...orgs.map((o) => `/O=${esc(o)}`), `/CN=${esc(cn)}`].join('');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(p('ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  openssl(['req', ...ecKey, '-keyout', p('key'), '-out', p('csr'), '-subj', subj]);
  openssl(['x509', '-req', '-in', p('csr'), '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '30', '-extfile', p('ext'), '-out', p('crt')]);
  return { cert: p('crt'), key: p('key') };
}

/** A kubeconfig for any client certificate of the PKI, certificates embedded. */
export function clientKubeconfig(pki: Pki, server: string, client: ClientCert, user: string, name = 'herald-test'): string {
  return adminKubeconfig({ ...pki, adminCert: client.cert, adminKey: client.key }, server, name).replace(/^- name: admin$/m, `- name: ${user}`).replace(/^ {4}user: admin$/m, `    user: ${user}`);
}

const b64 = (file: string): string => readFileSync(file).toString('base64');

/** A kubeconfig for the admin identity, certificates embedded so it can be copied anywhere. */
export function adminKubeconfig(pki: Pki, server: string, name = 'herald-test'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    '    user: admin',
    `current-context: ${name}`,
    '',
  ].join('\n');
}
