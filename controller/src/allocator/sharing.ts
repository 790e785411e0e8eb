import type { SharingInfo } from './types.js';

/**
 * Why two Services with the same sharing key still may not share one IP, or
 * undefined when they may (MetalLB's rules): no protocol/port in common, and if
 * either uses externalTrafficPolicy Local, both select the same pods, because
 * only then does "announce from a node with a local endpoint" mean one node.
 */
export function sharingConflict(a: SharingInfo, b: SharingInfo): string | undefined {
  if (a.key === undefined || b.key === undefined || a.key !== b.key) return 'their sharing keys differ';
  const ports = new Set(a.ports);
  const common = b.ports.filter((p) => ports.has(p));
  if (common.length > 0) return `both use ${common.join(', ')}`;
  if ((a.local || b.local) && a.selector !== b.selector) {
    return 'one uses externalTrafficPolicy Local and they select different pods';
  }
  return undefined;
}

export function canShare(a: SharingInfo, b: SharingInfo): boolean {
  return sharingConflict(a, b) === undefined;
}
