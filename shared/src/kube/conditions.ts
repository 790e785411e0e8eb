/**
 * Pure helpers for `status.conditions` (metav1.Condition lists), with the semantics of
 * apimachinery's `meta.SetStatusCondition`: one condition per type, and
 * `lastTransitionTime` moves only when `status` changes, so it tells users when a thing
 * last became Ready, not when the controller last looked.
 * @packageDocumentation
 */

/** `True`, `False` or `Unknown`, as metav1.ConditionStatus. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/**
 * A metav1.Condition as it travels in JSON. `observedGeneration` admits `undefined` so
 * that objects parsed by zod (which types optionals that way) fit without copying.
 */
export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase reason of the last transition, e.g. `NoMatchingPool`. */
  reason: string;
  message: string;
  /** RFC 3339, seconds precision, as metav1.Time serializes. */
  lastTransitionTime: string;
  observedGeneration?: number | undefined;
}

/** A condition to set: `lastTransitionTime` is filled in by {@link setCondition}. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** `now` as metav1.Time writes it: RFC 3339 in UTC, whole seconds. */
export function formatTime(now: Date | number): string {
  const d = typeof now === 'number' ? new Date(now) : now;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The condition of `type`, if present. */
export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/** True when the condition of `type` is present with status `True`. */
export function isConditionTrue(list: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(list, type)?.status === 'True';
}

/** Equal in everything but `lastTransitionTime`. */
export function conditionsEqual(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration
  );
}

/**
 * Two lists hold the same conditions (by type, in any order), ignoring
 * `lastTransitionTime`. Use it to skip status writes that would change nothing.
 */
export function conditionListsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const la = a ?? [];
  const lb = b ?? [];
  if (la.length !== lb.length) return false;
  return la.every((ca) => {
    const cb = findCondition(lb, ca.type);
    return cb !== undefined && conditionsEqual(ca, cb);
  });
}

/**
 * Sets `cond` in `list`, returning a new list (the input is not modified):
 * - a new type is appended, with `lastTransitionTime` = `cond.lastTransitionTime ?? now`;
 * - a changed status replaces the condition and moves `lastTransitionTime` likewise;
 * - an unchanged status keeps the old `lastTransitionTime` and takes the new reason,
 *   message and observedGeneration.
 * When nothing changes at all, the same `list` instance is returned, so
 * `setCondition(l, c, now) === l` means "no status write needed".
 */
export function setCondition(list: readonly Condition[] | undefined, cond: ConditionInput, now: Date | number): Condition[] {
  const current = list ?? [];
  const i = current.findIndex((c) => c.type === cond.type);
  const existing = i === -1 ? undefined : current[i];
  const lastTransitionTime =
    existing !== undefined && existing.status === cond.status
      ? existing.lastTransitionTime
      : (cond.lastTransitionTime ?? formatTime(now));
  const next: Condition = { ...cond, lastTransitionTime };
  if (existing === undefined) return [...current, next];
  if (conditionsEqual(existing, next) && existing.lastTransitionTime === lastTransitionTime && list !== undefined) {
    return list as Condition[];
  }
  const out = [...current];
  out[i] = next;
  return out;
}

/** `list` without the condition of `type` (the same instance when there was none). */
export function removeCondition(list: readonly Condition[] | undefined, type: string): Condition[] {
  const current = list ?? [];
  if (!current.some((c) => c.type === type)) return current as Condition[];
  return current.filter((c) => c.type !== type);
}
