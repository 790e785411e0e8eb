/**
 * @herald/shared/config: the one configuration model (see ./model.ts).
 * @packageDocumentation
 */
export {
  buildConfig,
  ConfigTracker,
  CONFIG_KINDS,
  type ConfigInput,
  type ConfigKind,
  type HeraldConfig,
  type InvalidReason,
  type Kept,
  type LastGood,
  type ObjectVerdict,
  type PoolInForce,
  type RawConfigObject,
} from './model.js';
