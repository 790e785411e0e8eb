/**
 * @herald/shared/kube: Kubernetes plumbing for Herald's controller and speaker: kubeconfig
 * loading, informer caches, a keyed rate-limited workqueue, Lease leader election, Events
 * and status conditions.
 * @packageDocumentation
 */
export { SERVICE_ACCOUNT_DIR, loadKubeConfig } from './config.js';
export {
  conditionListsEqual,
  conditionsEqual,
  findCondition,
  formatTime,
  isConditionTrue,
  removeCondition,
  setCondition,
  type Condition,
  type ConditionInput,
  type ConditionStatus,
} from './conditions.js';
export { EventRecorder, type EventRecorderOptions, type EventSubject, type EventType, type EventsApi } from './events.js';
export {
  buildInformer,
  createInformer,
  type Informer,
  type InformerEvent,
  type InformerOptions,
  type ListSelectors,
  type Watcher,
} from './informer.js';
export { keyOf, objectKey, splitKey } from './keys.js';
export { LeaderElector, type LeaderCallbacks, type LeaderElectorOptions, type LeaseApi } from './leader.js';
export { abortOptions, callWithTimeout, type RequestOptions } from './request.js';
export {
  WorkQueue,
  ok,
  requeueAfter,
  retry,
  type ReconcileHandler,
  type ReconcileResult,
  type StartOptions,
  type WorkQueueHooks,
  type WorkQueueOptions,
} from './workqueue.js';
export { PooledKubeConfig } from './pooled.js';
export { RawJsonClient, type RawResponse } from './raw.js';
