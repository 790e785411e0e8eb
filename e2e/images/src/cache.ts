import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where built artefacts are cached between runs (outside the repository, like the
 * control plane's tools): debootstrap results, downloaded .debs, compiled test binaries.
 */
export function imagesCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['HERALD_IMAGES_CACHE'] ?? join(homedir(), '.cache', 'herald', 'images');
}

/**
 * A short content key: the same inputs always give the same key, and any change to them a
 * new one, so cached results and image tags are reused exactly when they would come out
 * the same. 16 hex digits (64 bits) is plenty for a few dozen cache entries.
 */
export function contentKey(...parts: readonly unknown[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${JSON.stringify(p)}\n`);
  return h.digest('hex').slice(0, 16);
}
