import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageSize } from './buildah.js';
import { ImagesError } from './errors.js';
import { run, type LogSink, type RunOptions } from './exec.js';
import { imagesCacheDir } from './cache.js';
import { pruneBuildCache } from './gc.js';
import { withLock } from './lock.js';
import { buildStandins } from './standins.js';
import type { RootfsOptions } from './rootfs.js';

/** The repository root, whose Dockerfile and sources make the images. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The Dockerfile's runtime targets, one image each. */
export const HERALD_TARGETS = ['controller', 'speaker'] as const;
export type HeraldTarget = (typeof HERALD_TARGETS)[number];

/** Local name of a Herald image (`localhost/herald/controller:TAG`), or of the builder stage. */
export function heraldImageName(target: HeraldTarget | 'builder', tag: string): string {
  return `localhost/herald/${target}:${tag}`;
}

/** The Dockerfile's base-image arguments; unset ones keep the Dockerfile's defaults (the official images). */
export interface BaseImages {
  readonly builder: string;
  readonly controller: string;
  readonly speaker: string;
}

export interface BuildHeraldOptions {
  /** Image tag; default `dev`. */
  readonly tag?: string;
  /** Base images; default: the local stand-ins, built (or found) first. */
  readonly bases?: BaseImages;
  /**
   * CA bundle handed to npm in the builder as the `npm-ca` secret; `null` for none.
   * Default: `defaultCaFile()` (this machine reaches the registry through a proxy whose
   * certificate only its own bundle holds).
   */
  readonly caFile?: string | null;
  readonly context?: string;
  readonly log?: LogSink;
  readonly rootfs?: RootfsOptions;
  /** Remove the cache of earlier builds (see gc.ts); default true. */
  readonly prune?: boolean;
}

export interface HeraldImage {
  readonly target: HeraldTarget;
  readonly image: string;
  readonly bytes: number;
  readonly seconds: number;
}

/** The CA bundle npm on this machine trusts: npm's `cafile`, Node's extra CA file, or Debian's bundle. */
export function defaultCaFile(env: NodeJS.ProcessEnv, exists: (path: string) => boolean): string | null {
  for (const candidate of [env['npm_config_cafile'], env['NODE_EXTRA_CA_CERTS'], '/etc/ssl/certs/ca-certificates.crt']) {
    if (candidate && exists(candidate)) return candidate;
  }
  return null;
}

/** `buildah bud` arguments for one target (pure: the tests check them). */
export function budArgs(o: { target: HeraldTarget | 'builder'; image: string; bases: BaseImages; caFile: string | null; context: string }): string[] {
  const args = [
    'bud',
    // Every FROM names an image in the local store; nothing is pulled.
    '--pull=never',
    // npm ci in the builder reaches the registry with the host's network and DNS.
    '--network=host',
    // Reuse each step's result across targets and runs: the speaker's build reuses the
    // controller's builder stage, and an unchanged context builds in seconds.
    '--layers',
    '--format=oci',
    '--target', o.target,
    '--tag', o.image,
    '--build-arg', `BUILDER_BASE=${o.bases.builder}`,
    '--build-arg', `CONTROLLER_BASE=${o.bases.controller}`,
    '--build-arg', `SPEAKER_BASE=${o.bases.speaker}`,
  ];
  if (o.caFile !== null) args.push('--secret', `id=npm-ca,src=${o.caFile}`);
  args.push('--file', `${o.context.replace(/\/$/, '')}/Dockerfile`, o.context);
  return args;
}

/**
 * Builds the controller and speaker images from the root Dockerfile with buildah, into
 * the local store as `localhost/herald/{controller,speaker}:TAG`.
 */
export async function buildHeraldImages(opts: BuildHeraldOptions = {}): Promise<{ images: HeraldImage[]; bases: BaseImages }> {
  const tag = opts.tag ?? 'dev';
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new ImagesError('Usage', `image tag ${JSON.stringify(tag)}: letters, digits, _ . - only, at most 128`);
  const context = opts.context ?? REPO_ROOT;
  let bases = opts.bases;
  if (!bases) {
    const s = await buildStandins({ ...opts.rootfs, ...(opts.log ? { log: opts.log } : {}) });
    bases = { builder: s.builder, controller: s.runtimeNonroot, speaker: s.runtime };
  }
  const caFile = opts.caFile === undefined ? defaultCaFile(process.env, existsSync) : opts.caFile;
  return withLock(join(opts.rootfs?.cacheDir ?? imagesCacheDir(), 'herald-build.lock'), () => budAll(tag, bases, caFile, context, opts));
}

/**
 * `buildah bud`, once more when its cache lookup lost a race: buildah lists the store's
 * images to find a cached step and fails (`layer not known`) when another process
 * removes one of them meanwhile. Herald's own builds take turns (withLock), but any
 * buildah user on the machine may prune.
 */
async function bud(args: string[], runOpts: RunOptions): Promise<void> {
  try {
    await run('buildah', args, runOpts);
  } catch (err) {
    if (!(err instanceof ImagesError && /checking if cached image exists|(layer|image) not known/.test(err.message))) throw err;
    await run('buildah', args, runOpts);
  }
}

async function budAll(tag: string, bases: BaseImages, caFile: string | null, context: string, opts: BuildHeraldOptions): Promise<{ images: HeraldImage[]; bases: BaseImages }> {
  const runOpts = { cwd: context, ...(opts.log ? { log: opts.log } : {}) };
  // The builder stage first, tagged: both targets then reuse its steps, and the tag marks
  // its cached steps as current for pruneBuildCache. Its time counts toward the controller.
  let started = Date.now();
  await bud(budArgs({ target: 'builder', image: heraldImageName('builder', tag), bases, caFile, context }), runOpts);
  const images: HeraldImage[] = [];
  for (const target of HERALD_TARGETS) {
    const image = heraldImageName(target, tag);
    await bud(budArgs({ target, image, bases, caFile, context }), runOpts);
    images.push({ target, image, bytes: await imageSize(image), seconds: (Date.now() - started) / 1000 });
    started = Date.now();
  }
  if (opts.prune ?? true) await pruneBuildCache([bases.builder, bases.controller, bases.speaker]);
  return { images, bases };
}
