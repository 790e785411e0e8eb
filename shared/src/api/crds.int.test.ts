import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { testKubeconfigPath } from '@herald/e2e-harness';
import { ALL_KINDS, GROUP, VERSION } from './index.js';

/**
 * The generated CRDs on a real kube-apiserver: every kind can be created and
 * read back with Herald's defaults applied, and every CEL / OpenAPI rule
 * rejects a bad object with a message a person can act on.
 */

const FIXTURES = fileURLToPath(new URL('./__fixtures__', import.meta.url));
type Obj = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string>; resourceVersion?: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
const load = (dir: string): [string, Obj][] =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => [f, parse(readFileSync(join(FIXTURES, dir, f), 'utf8')) as Obj]);

const kc = new KubeConfig();
let custom: CustomObjectsApi;
let core: CoreV1Api;
const ns = `crds-${randomBytes(3).toString('hex')}`;

const pluralOf = (kind: string): string => {
  const k = ALL_KINDS.find((d) => d.kind === kind);
  if (!k) throw new Error(`unknown kind ${kind}`);
  return k.plural;
};
const ref = (o: Obj) => ({ group: GROUP, version: VERSION, namespace: ns, plural: pluralOf(o.kind), name: o.metadata.name });

/** The apiserver's Status message from a client-node ApiException. */
function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return String((JSON.parse(body) as { message?: string }).message ?? body);
    } catch {
      return body;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

async function create(o: Obj): Promise<Obj> {
  const { status, ...rest } = o;
  const created = (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: pluralOf(o.kind), body: rest })) as Obj;
  if (status === undefined) return created;
  return (await custom.replaceNamespacedCustomObjectStatus({ ...ref(o), body: { ...created, status } })) as Obj;
}

beforeAll(async () => {
  kc.loadFromFile(testKubeconfigPath());
  custom = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  for (const k of ALL_KINDS) {
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: k.plural })) as { items: Obj[] };
    await Promise.all(list.items.map((o) => custom.deleteNamespacedCustomObject({ ...ref(o), plural: k.plural })));
  }
  await core.deleteNamespace({ name: ns });
});

describe('every herald.io kind on a real kube-apiserver', () => {
  const good = load('good');

  it('has one good fixture per kind', () => {
    expect(good.map(([, o]) => o.kind).sort()).toEqual(ALL_KINDS.map((k) => k.kind).sort());
  });

  it.each(good)('creates %s and reads it back, with defaults applied as zod applies them', async (_f, obj) => {
    await create(obj);
    const back = (await custom.getNamespacedCustomObject(ref(obj))) as Obj;
    const kind = ALL_KINDS.find((k) => k.kind === obj.kind);
    // zod is the source of truth for defaults; the CRD must default exactly the same way.
    const expected = kind?.schema.parse({ ...obj, metadata: { name: obj.metadata.name } }) as Obj;
    expect(back.spec).toEqual(expected.spec);
    expect(back.status).toEqual(expected.status);
    expect(kind?.schema.safeParse(back).success).toBe(true);
  });
});

describe('validation rules reject bad objects with a readable message', () => {
  const bad = load('bad');

  it('covers at least 15 bad manifests across at least 6 kinds', () => {
    expect(bad.length).toBeGreaterThanOrEqual(15);
    expect(new Set(bad.map(([, o]) => o.kind)).size).toBeGreaterThanOrEqual(6);
  });

  it.each(bad)('refuses %s', async (_f, obj) => {
    const expectText = obj.metadata.annotations?.['test.herald.io/expect'];
    expect(expectText).toBeTruthy();
    const viaStatus = obj.metadata.annotations?.['test.herald.io/subresource'] === 'status';
    let message = '';
    try {
      if (viaStatus) await create(obj);
      else {
        const { status: _s, ...rest } = obj;
        await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: pluralOf(obj.kind), body: rest });
      }
    } catch (err) {
      expect((err as { code?: number }).code).toBe(422);
      message = apiMessage(err);
    }
    expect(message).toContain(expectText);
  });
});

describe('transition rules', () => {
  const peer: Obj = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'BGPPeer',
    metadata: { name: 'gr-peer' },
    spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', enableGracefulRestart: true },
  };

  it('refuses to flip BGPPeer.enableGracefulRestart on an existing peer', async () => {
    const cur = await create(peer);
    const next = { ...cur, spec: { ...cur.spec, enableGracefulRestart: false } };
    await expect(custom.replaceNamespacedCustomObject({ ...ref(peer), body: next })).rejects.toMatchObject({ code: 422 });
    const msg = await custom.replaceNamespacedCustomObject({ ...ref(peer), body: next }).then(() => '', apiMessage);
    expect(msg).toContain('enableGracefulRestart');
  });

  it('refuses to move a ServiceL2Status to another node', async () => {
    const st: Obj = { apiVersion: `${GROUP}/${VERSION}`, kind: 'ServiceL2Status', metadata: { name: 'l2-move' }, status: { node: 'node-1', serviceName: 's', serviceNamespace: 'n' } };
    const cur = await create(st);
    const msg = await custom
      .replaceNamespacedCustomObjectStatus({ ...ref(st), body: { ...cur, status: { ...cur.status, node: 'node-2' } } })
      .then(() => '', apiMessage);
    expect(msg).toContain('immutable');
  });
});
