export { Allocator, isBuggy } from './allocator.js';
export { canShare, sharingConflict } from './sharing.js';
export { poolStats } from './stats.js';
export type * from './types.js';
