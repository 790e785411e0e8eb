import { run } from './exec.js';

/** The runtime config of an image built from scratch (buildah config's options). */
export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: Record<string, string>;
  readonly user?: string;
  readonly workingDir?: string;
  readonly ports?: readonly string[];
  readonly stopSignal?: string;
  readonly labels?: Record<string, string>;
}

function configArgs(c: ImageConfig): string[] {
  const args: string[] = [];
  // buildah takes JSON for the exec form; an empty list clears what a base set.
  if (c.entrypoint) args.push('--entrypoint', JSON.stringify(c.entrypoint));
  if (c.cmd) args.push('--cmd', JSON.stringify(c.cmd));
  for (const [k, v] of Object.entries(c.env ?? {})) args.push('--env', `${k}=${v}`);
  if (c.user !== undefined) args.push('--user', c.user);
  if (c.workingDir !== undefined) args.push('--workingdir', c.workingDir);
  for (const p of c.ports ?? []) args.push('--port', p);
  if (c.stopSignal !== undefined) args.push('--stop-signal', c.stopSignal);
  for (const [k, v] of Object.entries(c.labels ?? {})) args.push('--label', `${k}=${v}`);
  return args;
}

/**
 * Builds an image from an empty root: `fill` writes its files into the mounted root
 * filesystem (as root, so owners and modes are exactly as written), then the config is
 * set and the image committed as `names[0]`, tagged with the other names. One layer.
 */
export async function buildFromScratch(names: readonly [string, ...string[]], fill: (root: string) => Promise<void> | void, config: ImageConfig): Promise<void> {
  const ctr = (await run('buildah', ['from', '--quiet', 'scratch'])).trim();
  try {
    const root = (await run('buildah', ['mount', ctr])).trim();
    try {
      await fill(root);
    } finally {
      await run('buildah', ['umount', ctr]);
    }
    await run('buildah', ['config', ...configArgs(config), ctr]);
    // oci format: what a registry and containerd take as is; no build history to carry.
    await run('buildah', ['commit', '--quiet', '--format', 'oci', '--rm', ctr, names[0]]);
  } catch (err) {
    await run('buildah', ['rm', ctr]).catch(() => undefined);
    throw err;
  }
  for (const n of names.slice(1)) await run('buildah', ['tag', names[0], n]);
}

/** Commits `base` with a changed config as `name`: no new layer, so it costs no space. */
export async function deriveImage(base: string, name: string, config: ImageConfig): Promise<void> {
  const ctr = (await run('buildah', ['from', '--pull=never', '--quiet', base])).trim();
  try {
    await run('buildah', ['config', ...configArgs(config), ctr]);
    await run('buildah', ['commit', '--quiet', '--format', 'oci', '--rm', ctr, name]);
  } catch (err) {
    await run('buildah', ['rm', ctr]).catch(() => undefined);
    throw err;
  }
}
