import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec, run } from './exec.js';

/**
 * Garbage collection of the build cache. `buildah bud --layers` keeps every step's result
 * as an untagged image so that an unchanged step is skipped next time; each build of
 * changed sources leaves about 1.2 GB of them behind (npm ci's node_modules, the built
 * tree). `buildah rmi --prune` would drop the current cache too. Instead, remove only
 * the untagged images that descend from our base images and that no tagged image is
 * built on: the builder stage is tagged (localhost/herald/builder:TAG), so its steps stay.
 * It runs inside Herald's build lock, so no Herald build runs beside it. Another buildah
 * build running beside may fail its cache lookup (`layer not known`) when an image
 * vanishes under it (buildHeraldImages retries that once); an image a running step is
 * based on is in use and stays, and removing an image keeps the layers others stand on.
 */

/** An image as containers/storage records it (`<graphroot>/<driver>-images/images.json`). */
export interface StoredImage {
  readonly id: string;
  readonly names?: readonly string[];
  /** Its top layer. */
  readonly layer?: string;
}
/** A layer as containers/storage records it (`<graphroot>/<driver>-layers/layers.json`). */
export interface StoredLayer {
  readonly id: string;
  readonly parent?: string;
}

/**
 * IDs of untagged images that stand on one of the `bases` (image IDs) and under no tagged
 * image: the cache of builds whose sources have since changed.
 */
export function staleBuildImages(images: readonly StoredImage[], layers: readonly StoredLayer[], bases: readonly string[]): string[] {
  const parent = new Map(layers.map((l) => [l.id, l.parent]));
  const chain = (top: string | undefined): string[] => {
    const out: string[] = [];
    for (let l = top; l !== undefined && !out.includes(l); l = parent.get(l)) out.push(l);
    return out;
  };
  const baseLayers = new Set(images.filter((i) => bases.includes(i.id) && i.layer !== undefined).map((i) => i.layer));
  const underTagged = new Set(images.filter((i) => (i.names?.length ?? 0) > 0).flatMap((i) => chain(i.layer)));
  return images
    .filter((i) => (i.names?.length ?? 0) === 0 && i.layer !== undefined && !underTagged.has(i.layer) && chain(i.layer).some((l) => baseLayers.has(l)))
    .map((i) => i.id);
}

/** Removes stale build-cache images standing on `bases` (image names or IDs); returns how many went. Best effort. */
export async function pruneBuildCache(bases: readonly string[]): Promise<number> {
  const info = JSON.parse(await run('buildah', ['info'])) as { store?: { GraphRoot?: string; GraphDriverName?: string } };
  const root = info.store?.GraphRoot;
  const driver = info.store?.GraphDriverName;
  if (!root || !driver) return 0;
  const images = JSON.parse(readFileSync(join(root, `${driver}-images/images.json`), 'utf8')) as StoredImage[];
  const layers = JSON.parse(readFileSync(join(root, `${driver}-layers/layers.json`), 'utf8')) as StoredLayer[];
  const baseIds: string[] = [];
  for (const b of bases) {
    const r = await exec('buildah', ['inspect', '--type', 'image', '--format', '{{.FromImageID}}', b]);
    if (r.code === 0) baseIds.push(r.stdout.trim());
  }
  let removed = 0;
  // Children before parents: buildah refuses to remove an image another one is built on.
  for (const id of staleBuildImages(images, layers, baseIds).reverse()) {
    // An image in use by a running build's container stays; the next prune takes it.
    if ((await exec('buildah', ['rmi', id])).code === 0) removed += 1;
  }
  return removed;
}
