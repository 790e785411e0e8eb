import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A cheap guard on the root Dockerfile (e2e/images builds it with buildah, on local
 * stand-ins for its base images): its stages, that the bases are build arguments whose
 * defaults are the official images, that each runtime stage copies only its binary's
 * packaged tree (the tree package.int.test.ts starts), and that its user matches the
 * chart's pod security context.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
  /** The stage's text, comments included. */
  readonly text: string;
}

/**
 * Stages of a Dockerfile: continuation lines joined, comments dropped from instructions,
 * `${ARG}` in FROM replaced by the default of the ARG declared before the first FROM (what
 * a plain `docker build` uses). `args` holds those global ARGs.
 */
function parseDockerfile(text: string): { stages: Stage[]; args: Map<string, string | undefined> } {
  const stages: { image: string; name: string | undefined; instructions: Instruction[]; lines: string[] }[] = [];
  const args = new Map<string, string | undefined>();
  let pending = '';
  for (const line of text.split('\n')) {
    stages.at(-1)?.lines.push(line);
    if (pending === '' && /^\s*(#|$)/.test(line)) continue;
    pending += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const [, op = '', rest = ''] = /^\s*(\S+)\s*(.*)$/.exec(pending) ?? [];
    pending = '';
    if (op.toUpperCase() === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(rest);
      const image = (m?.[1] ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => args.get(a ?? b ?? '') ?? '');
      stages.push({ image, name: m?.[2], instructions: [], lines: [line] });
    } else if (stages.length === 0 && op.toUpperCase() === 'ARG') {
      const [, name = '', value] = /^(\w+)(?:=(\S*))?$/.exec(rest.trim()) ?? [];
      args.set(name, value);
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args: rest.trim() });
    }
  }
  return { stages: stages.map(({ lines, ...s }) => ({ ...s, text: lines.join('\n') })), args };
}

const { stages: dockerfile, args: globalArgs } = parseDockerfile(read('Dockerfile'));
const stage = (name: string): Stage => {
  const s = dockerfile.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
};
const all = (s: Stage, op: string): string[] => s.instructions.filter((i) => i.op === op).map((i) => i.args);
const user = (s: Stage): string | undefined => all(s, 'USER').at(-1);
/** runAsUser:runAsGroup (group defaulting to the user) in a chart template. */
function chartUser(template: string): string {
  const text = read(`charts/herald/templates/${template}`);
  const uid = /runAsUser:\s*(\d+)/.exec(text)?.[1];
  const gid = /runAsGroup:\s*(\d+)/.exec(text)?.[1] ?? uid;
  return `${uid}:${gid}`;
}

describe('the Dockerfile', () => {
  it('has a builder stage and one runtime stage per binary', () => {
    expect(dockerfile.map((s) => s.name)).toEqual(['builder', 'controller', 'speaker']);
  });

  it('names its base images as build arguments whose defaults are the official images', () => {
    // e2e/images passes local stand-ins through these; a plain docker build pulls the defaults.
    expect(Object.fromEntries(globalArgs)).toEqual({
      BUILDER_BASE: 'node:20-bookworm',
      CONTROLLER_BASE: 'gcr.io/distroless/nodejs20-debian12:nonroot',
      SPEAKER_BASE: 'gcr.io/distroless/nodejs20-debian12',
    });
    expect(read('Dockerfile')).toMatch(/^FROM \$\{BUILDER_BASE\} AS builder$/m);
  });

  it('takes a CA bundle for npm only as an optional secret, so a plain docker build needs none', () => {
    const runs = all(stage('builder'), 'RUN').filter((r) => /\bnpm (ci|run)\b/.test(r));
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) {
      // BuildKit and buildah both treat a secret mount as optional unless required=true.
      expect(r).toMatch(/--mount=type=secret,id=npm-ca(\s|$)/);
      expect(r).toMatch(/if \[ -s \/run\/secrets\/npm-ca \]; then export npm_config_cafile=\/run\/secrets\/npm-ca; fi/);
    }
    // Never an ARG or ENV: those would be baked into the image's history.
    expect(read('Dockerfile')).not.toMatch(/^\s*(ARG|ENV)\s[^\n]*(cafile|EXTRA_CA|CA_CERT|ca-certificates)/im);
  });

  it('builds the packaged tree in the builder, with the toolchain the native addon needs', () => {
    const b = stage('builder');
    expect(b.image).toMatch(/^node:20-bookworm(@sha256:[0-9a-f]{64})?$/);
    const runs = all(b, 'RUN').join('\n');
    expect(runs).toMatch(/apt-get install[^\n]*\bbuild-essential\b/);
    expect(runs).toMatch(/apt-get install[^\n]*\bpython3\b/);
    const ci = runs.indexOf('npm ci');
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(runs.indexOf('npm run package')).toBeGreaterThan(ci);
  });

  it.each(['controller', 'speaker'])('%s: copies only its packaged tree from the builder, and runs its main.js', (name) => {
    const s = stage(name);
    const tree = posix.join(all(stage('builder'), 'WORKDIR').at(-1) ?? '/', 'dist-package', name);
    expect(s.image).toMatch(/^(gcr\.io\/distroless\/nodejs20-debian12|node:20-bookworm-slim)(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/);
    // Nothing else enters the image: no RUN (a runtime stage installs nothing), no ADD.
    expect(s.instructions.filter((i) => i.op === 'RUN' || i.op === 'ADD')).toEqual([]);
    const copies = all(s, 'COPY');
    expect(copies).toHaveLength(1);
    for (const c of copies) {
      const words = c.split(/\s+/);
      expect(words.filter((w) => w.startsWith('--'))).toEqual(['--from=builder']);
      const [dest, ...sources] = words.filter((w) => !w.startsWith('--')).reverse();
      expect(dest).toBe('/app');
      for (const src of sources) expect(posix.normalize(src).replace(/\/$/, '')).toBe(tree);
    }
    // The chart passes flags as `args`, so the entry point must be the binary itself.
    const entry = JSON.parse(all(s, 'ENTRYPOINT').at(-1) ?? 'null') as string[] | null;
    expect(entry?.at(-1)).toBe('/app/dist/main.js');
    expect(entry?.[0]).toMatch(/(^|\/)node$/);
    expect(all(s, 'CMD')).toEqual([]);
  });

  it('runs the controller as the non-root user the chart expects', () => {
    const u = user(stage('controller'));
    expect(u).toBe('65532:65532');
    expect(chartUser('controller/deployment.yaml')).toBe(u);
  });

  it('runs the speaker as root, saying why, as the chart expects', () => {
    const s = stage('speaker');
    expect(user(s)).toBe('0:0');
    expect(chartUser('speaker/daemonset.yaml')).toBe('0:0');
    expect(s.text).toMatch(/#.*NET_RAW/);
  });

  it('keeps what the host built or installed out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', 'dist-package', '.git']));
  });
});
