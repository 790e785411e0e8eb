/**
 * The herald.io API group. Field names, types and defaults follow MetalLB's metallb.io
 * v1beta1/v1beta2 API so that migrating is a change of `apiVersion`.
 * @packageDocumentation
 */

/** API group of every Herald custom resource. */
export const GROUP = 'herald.io';

/** The one served (and stored) version. */
export const VERSION = 'v1beta1';

/** `apiVersion` of every Herald object. */
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** `kubectl get herald` lists every Herald kind. */
export const CATEGORY = 'herald';
