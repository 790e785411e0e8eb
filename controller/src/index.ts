/**
 * @herald/controller public API: the controller's pure cores, for tools that must decide
 * exactly as the controller does (`herald explain` replays the allocator on cluster state).
 * @packageDocumentation
 */
export const PACKAGE = '@herald/controller';

export { Allocator, canShare, isBuggy, poolStats, sharingConflict } from './allocator/index.js';
export type {
  Assignment,
  Decision,
  FailureReason,
  IPFamilyPolicy,
  PoolModel,
  PoolStats,
  PoolVerdict,
  ServiceAllocation,
  ServiceRequest,
  SharingInfo,
} from './allocator/index.js';
export type { AllocatorOptions } from './allocator/allocator.js';
export { buildPoolConfig, type PoolConfig, type RawPool, type PoolVerdict as PoolValidity } from './config/pools.js';
export {
  ANN_ALLOCATED_FROM,
  ANN_IPS,
  ANN_POOL,
  ANN_SHARING,
  ANNOTATION_PREFIXES,
  CONDITION_ASSIGNED,
  annotation,
  handles,
  serviceKey,
  serviceRequest,
  statusIPs,
  type ModelResult,
} from './service/model.js';
export { applyStatus, type DesiredStatus } from './service/status.js';
