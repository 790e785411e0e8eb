import { ImagesError } from './errors.js';
import { run } from './exec.js';

/**
 * Where `image` goes in `registry` (HOST:PORT): the same repository path and tag, without
 * the local store's `localhost/` prefix (`localhost/herald/controller:dev` ->
 * `docker://HOST:PORT/herald/controller:dev`).
 */
export function pushDestination(image: string, registry: string): string {
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(registry)) throw new ImagesError('Usage', `registry ${JSON.stringify(registry)}: expected HOST:PORT`);
  const port = Number(registry.slice(registry.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535) throw new ImagesError('Usage', `registry ${registry}: port out of range`);
  const path = image.replace(/^localhost\//, '');
  // A reference without a tag means :latest, as docker and buildah read it.
  const lastSlash = path.lastIndexOf('/');
  const tagged = path.slice(lastSlash + 1).includes(':') || path.includes('@') ? path : `${path}:latest`;
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$/.test(tagged)) {
    throw new ImagesError('Usage', `image ${JSON.stringify(image)}: not a repository reference`);
  }
  return `docker://${registry}/${tagged}`;
}

/**
 * Pushes a local image to a registry over plain HTTP (the test registry has no TLS),
 * returning the pushed reference (`HOST:PORT/herald/controller:dev`) that nodes pull.
 */
export async function pushImage(image: string, registry: string): Promise<string> {
  const dest = pushDestination(image, registry);
  await run('buildah', ['push', '--quiet', '--tls-verify=false', image, dest]);
  return dest.slice('docker://'.length);
}
