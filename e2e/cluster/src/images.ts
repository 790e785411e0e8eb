/**
 * Images without any reachable registry: images built from scratch with buildah (the
 * pause image is a static C program), and the cluster's own registry (distribution)
 * that every node's containerd pulls from over plain HTTP.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterError } from './errors.js';
import { PAUSE_REPO, PAUSE_TAG, DEFAULT_DIR } from './plan.js';
import { describeFailure, run, sleep } from './run.js';
import { readState } from './state.js';

/** The pause program's source; the same path from src/ (under ts-jest) and from dist/. */
export const PAUSE_SOURCE = fileURLToPath(new URL('../pause/pause.c', import.meta.url));

/** A label on every image built here: the hash of its inputs, so a cached image is reused only while they are unchanged. */
const INPUT_LABEL = 'io.herald.inputs-sha256';

/** A file to put into a scratch image. */
export interface ImageFile {
  /** Path on this machine. */
  readonly src: string;
  /** Absolute path in the image. */
  readonly dest: string;
}

export interface ScratchImage {
  /** Name in buildah's local store, e.g. `localhost/herald/busybox:1`. */
  readonly name: string;
  /** Whether it was built now (false: reused from the local store). */
  readonly built: boolean;
}

async function buildah(args: string[], what: string, timeoutMs = 120_000): Promise<string> {
  const r = await run('buildah', args, { timeoutMs });
  if (r.status !== 0) throw new ClusterError('CommandFailed', describeFailure(`buildah ${what}`, r));
  return r.stdout.trim();
}

/** The image's input label in buildah's store, or undefined when the image is not there. */
async function storedInputs(name: string): Promise<string | undefined> {
  const r = await run('buildah', ['inspect', '--type', 'image', '--format', `{{index .ImageAnnotations "${INPUT_LABEL}"}}|{{index .OCIv1.Config.Labels "${INPUT_LABEL}"}}`, name]);
  if (r.status !== 0) return undefined;
  return r.stdout.trim().split('|').find((x) => x !== '' && x !== '<no value>');
}

function localName(repoTag: string): string {
  return repoTag.includes('/') && /^[^/]*[.:]|^localhost\//.test(repoTag) ? repoTag : `localhost/${repoTag}`;
}

/**
 * Builds (or reuses) an image from scratch holding `files`, with `entrypoint`, as
 * `localhost/<repoTag>` in buildah's local store. Reused when an image of that name
 * was built from byte-identical files and the same entrypoint.
 */
export async function buildScratchImage(repoTag: string, files: readonly ImageFile[], entrypoint: readonly string[], opts: { log?: (l: string) => void } = {}): Promise<ScratchImage> {
  const name = localName(repoTag);
  const h = createHash('sha256');
  for (const f of files) h.update(f.dest).update('\0').update(readFileSync(f.src)).update('\0');
  h.update(JSON.stringify(entrypoint));
  const inputs = h.digest('hex');
  if ((await storedInputs(name)) === inputs) return { name, built: false };
  opts.log?.(`building image ${name}`);
  const ctr = await buildah(['from', '--pull=never', 'scratch'], 'from scratch');
  try {
    for (const f of files) await buildah(['copy', '--chmod', '0755', ctr, f.src, f.dest], `copy ${f.src}`);
    await buildah(['config', '--entrypoint', JSON.stringify(entrypoint), '--cmd', '', '--label', `${INPUT_LABEL}=${inputs}`, ctr], 'config');
    await buildah(['commit', '--quiet', '--rm', ctr, name], `commit ${name}`);
  } catch (err) {
    await run('buildah', ['rm', ctr]);
    throw err;
  }
  return { name, built: true };
}

/** The pause image (static C, sleeps and reaps zombies) as `localhost/herald/pause:TAG`; built once per machine. */
export async function buildPauseImage(opts: { log?: (l: string) => void } = {}): Promise<ScratchImage> {
  const work = mkdtempSync(join(tmpdir(), 'herald-pause-'));
  try {
    const bin = join(work, 'pause');
    // Compiling takes about 0.3 s; the source's hash then decides whether to rebuild the image.
    const cc = await run('gcc', ['-static', '-Os', '-s', '-o', bin, PAUSE_SOURCE]);
    if (cc.status !== 0) throw new ClusterError('MissingTool', describeFailure('gcc -static pause.c (needs gcc and libc6-dev)', cc));
    return await buildScratchImage(`${PAUSE_REPO}:${PAUSE_TAG}`, [{ src: bin, dest: '/pause' }], ['/pause'], opts);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Image transports skopeo understands; a name with none of them is in buildah's local store. */
const TRANSPORTS = ['containers-storage:', 'docker-archive:', 'oci-archive:', 'oci:', 'dir:', 'docker://'];

/**
 * Puts a local image into the cluster's registry and returns the reference pods use
 * (`REGISTRY/REPO:TAG`). `local` is a name in buildah's (containers-storage) store, such
 * as `localhost/herald/speaker:dev`, or any skopeo source (`docker-archive:FILE`,
 * `oci-archive:FILE`, `oci:DIR[:REF]`). The registry is the one of the cluster in
 * `opts.dir` (default /tmp/herald-cluster) unless `opts.registry` names one.
 */
export async function pushImage(local: string, repoTag: string, opts: { registry?: string; dir?: string } = {}): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/.test(repoTag)) {
    throw new ClusterError('BadOptions', `repoTag ${JSON.stringify(repoTag)}: want a repository path (lower case) and an optional :tag, no registry`);
  }
  const registry = opts.registry ?? readState(opts.dir ?? DEFAULT_DIR)?.plan.registry;
  if (!registry) throw new ClusterError('BadState', `no cluster in ${opts.dir ?? DEFAULT_DIR}: start one (npm run cluster -- up) or pass the registry`);
  const ref = `${registry}/${repoTag.includes(':') ? repoTag : `${repoTag}:latest`}`;
  const dest = `docker://${ref}`;
  // The registry speaks plain HTTP on the cluster's own bridge; it has no certificate.
  const r = TRANSPORTS.some((t) => local.startsWith(t))
    ? await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', local, dest], { timeoutMs: 600_000 })
    : await run('buildah', ['push', '--quiet', '--tls-verify=false', local, dest], { timeoutMs: 600_000 });
  if (r.status !== 0) throw new ClusterError('CommandFailed', describeFailure(`pushing ${local} to ${ref}`, r));
  return ref;
}

/** Resolves once `GET http://REGISTRY/v2/` answers 200, or fails after `timeoutMs`. */
export async function waitRegistry(registry: string, timeoutMs: number, alive: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    alive();
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`http://${registry}/v2/`, { timeout: 1_000 }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
      });
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new ClusterError('NotReady', `registry at ${registry} not ready in ${timeoutMs} ms (${last})`);
    await sleep(100);
  }
}
