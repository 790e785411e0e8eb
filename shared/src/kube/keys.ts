/**
 * Object keys: `namespace/name` for namespaced objects and `name` for cluster-scoped
 * ones, as client-go's `cache.MetaNamespaceKeyFunc`. Workqueues carry these keys.
 * @packageDocumentation
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** The key of an object (`ns/name`, or `name` when it has no namespace). */
export function objectKey(obj: KubernetesObject): string {
  return keyOf(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** The key of `namespace`/`name`. */
export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a key back into namespace (undefined for cluster-scoped) and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i === -1 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
