import { spawn } from 'node:child_process';
import { ImagesError } from './errors.js';
import { exec, run } from './exec.js';

/**
 * Thin wrappers over buildah, the only container tool this machine has (no Docker engine,
 * no registry). Images live in buildah's local store (containers/storage, shared with
 * podman and skopeo's `containers-storage:` transport).
 */

/** Whether `image` is in the local store. */
export async function imageExists(image: string): Promise<boolean> {
  const r = await exec('buildah', ['inspect', '--type', 'image', '--format', '{{.FromImageID}}', image]);
  return r.code === 0;
}

interface InspectedImage {
  readonly FromImageID?: string;
  readonly Manifest?: string;
  readonly OCIv1?: { config?: { User?: string; Entrypoint?: string[]; Env?: string[]; WorkingDir?: string } };
}

async function inspect(image: string): Promise<InspectedImage> {
  const r = await exec('buildah', ['inspect', '--type', 'image', image]);
  if (r.code !== 0) throw new ImagesError('BadImage', `no image ${image} in the local store: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as InspectedImage;
}

/**
 * An image's uncompressed size in bytes: the sum of its layers as the local store holds
 * them (uncompressed tar streams), which is what `docker images` and `podman images` show.
 */
export async function imageSize(image: string): Promise<number> {
  const manifest = JSON.parse((await inspect(image)).Manifest ?? '{}') as { layers?: { size?: number }[] };
  const layers = manifest.layers ?? [];
  if (layers.length === 0 || layers.some((l) => typeof l.size !== 'number')) throw new ImagesError('BadImage', `${image}: its manifest lists no layer sizes`);
  return layers.reduce((sum, l) => sum + (l.size ?? 0), 0);
}

/** The image's ID (the digest of its config), to tell whether a rebuild changed anything. */
export async function imageId(image: string): Promise<string> {
  const id = (await inspect(image)).FromImageID;
  if (!id) throw new ImagesError('BadImage', `${image}: no image ID`);
  return id;
}

/** The image's runtime config: user, entry point, environment, working directory. */
export async function imageConfig(image: string): Promise<{ user: string; entrypoint: string[]; env: string[]; workingDir: string }> {
  const c = (await inspect(image)).OCIv1?.config ?? {};
  return { user: c.User ?? '', entrypoint: c.Entrypoint ?? [], env: c.Env ?? [], workingDir: c.WorkingDir ?? '' };
}

/** Adds `name` to an image already in the store. */
export async function tagImage(image: string, name: string): Promise<void> {
  await run('buildah', ['tag', image, name]);
}

/** Removes an image name from the store (the image goes when no name is left); absent is fine. */
export async function removeImage(image: string): Promise<void> {
  const r = await exec('buildah', ['rmi', image]);
  if (r.code !== 0 && !/image not known|not found|no such image/i.test(r.stderr)) throw new ImagesError('CommandFailed', `buildah rmi ${image}: ${r.stderr.trim()}`);
}

/** Archive formats `exportImage` writes; both import with `ctr images import`. */
export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/**
 * Writes `image` to an archive `file`, named after the image so that `ctr images import`
 * (or `docker load`) gives it the same name on the other side.
 */
export async function exportImage(image: string, file: string, format: ArchiveFormat = 'docker-archive'): Promise<void> {
  if (file.includes(':')) throw new ImagesError('Usage', `archive path ${file}: a colon would end the path in buildah's ${format}:PATH:NAME syntax`);
  await run('buildah', ['push', '--quiet', image, `${format}:${file}:${image}`]);
}

/** How `runInImage` and `startInImage` run a container. */
export interface ContainerOptions {
  readonly env?: Record<string, string>;
  /** Default: the image's USER. */
  readonly user?: string;
  /** `HOST_PATH:CONTAINER_PATH[:ro]`. */
  readonly volumes?: readonly string[];
  /** Default `none`; `host` to serve on or reach this machine's addresses. */
  readonly network?: 'host' | 'none';
}

function runArgs(ctr: string, argv: readonly string[], opts: ContainerOptions): string[] {
  const args = ['run', `--network=${opts.network ?? 'none'}`];
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('--env', `${k}=${v}`);
  if (opts.user !== undefined) args.push('--user', opts.user);
  for (const v of opts.volumes ?? []) args.push('--volume', v);
  return [...args, ctr, '--', ...argv];
}

/** Runs `argv` in a new container of `image` (its entry point is not used), then removes the container. */
export async function runInImage(image: string, argv: readonly string[], opts: ContainerOptions & { timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const ctr = (await run('buildah', ['from', '--pull=never', '--quiet', image])).trim();
  try {
    const r = await exec('buildah', runArgs(ctr, argv, opts), opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  } finally {
    await exec('buildah', ['rm', ctr]);
  }
}

/** A container started by `startInImage`. */
export interface RunningContainer {
  /** stdout and stderr so far. */
  readonly output: () => string;
  /** Resolves with buildah's exit code when the container has stopped. */
  readonly exited: Promise<number | null>;
  /** Stops the container (buildah run kills it when signalled) and removes it. */
  readonly stop: () => Promise<void>;
}

/** Starts `argv` in a new container of `image` in the background, for servers under test. */
export async function startInImage(image: string, argv: readonly string[], opts: ContainerOptions = {}): Promise<RunningContainer> {
  const ctr = (await run('buildah', ['from', '--pull=never', '--quiet', image])).trim();
  const child = spawn('buildah', runArgs(ctr, argv, opts), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (d: Buffer): void => {
    output = (output + d.toString()).slice(-65536);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
  return {
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await exec('buildah', ['rm', ctr]);
    },
  };
}

/** Calls `fn` with the root filesystem of a new container of `image` mounted on this machine (root only), then removes the container. */
export async function withMountedImage<T>(image: string, fn: (root: string) => Promise<T> | T): Promise<T> {
  const ctr = (await run('buildah', ['from', '--pull=never', '--quiet', image])).trim();
  try {
    const root = (await run('buildah', ['mount', ctr])).trim();
    try {
      return await fn(root);
    } finally {
      await exec('buildah', ['umount', ctr]);
    }
  } finally {
    await exec('buildah', ['rm', ctr]);
  }
}
