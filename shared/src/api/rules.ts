/**
 * One source for validation: each rule carries the CEL expression the kube-apiserver runs
 * (emitted as `x-kubernetes-validations` by the CRD generator) and its TypeScript twin,
 * run by zod, with the same message. What admission refuses, the controller refuses too.
 * @packageDocumentation
 */
import type { z } from 'zod';

/**
 * Reasons the apiserver reports for a failed rule (apiextensions.k8s.io/v1 `ValidationRule.reason`).
 * `FieldValueDuplicate` is left out on purpose: the apiserver renders it without the message.
 */
export type RuleReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';

interface RuleCommon {
  /** CEL expression; `self` is the value the rule is attached to. */
  readonly rule: string;
  /** What is wrong and how to fix it; shown verbatim by kubectl and in zod issues. */
  readonly message: string;
  /** Error reason the apiserver reports; defaults to FieldValueInvalid. */
  readonly reason?: RuleReason;
  /**
   * JSONPath-like path (`.field`, `.list[0]` not allowed) relative to `self` where the apiserver
   * reports the error; zod reports its issue at the same path.
   */
  readonly fieldPath?: string;
}

/** A rule zod can check: `holds(self)` must be true exactly when the CEL rule is. */
export interface CheckedRule<T> extends RuleCommon {
  readonly holds: (self: T) => boolean;
}

/** A transition rule (uses `oldSelf`): only the apiserver can check it. */
export interface TransitionRule extends RuleCommon {
  readonly transition: true;
}

/** A validation rule for values of type `T`. */
export type ValidationRule<T> = CheckedRule<T> | TransitionRule;

/** The shape of one `x-kubernetes-validations` entry in a CRD. */
export interface KubernetesValidation {
  readonly rule: string;
  readonly message: string;
  readonly reason?: RuleReason;
  readonly fieldPath?: string;
}

/** Metadata key under which rules are recorded on a zod schema (read by the CRD generator). */
export const VALIDATIONS_KEY = 'x-kubernetes-validations';

function zodPath(fieldPath: string | undefined): PropertyKey[] {
  if (fieldPath === undefined) return [];
  return fieldPath.split('.').filter((p) => p !== '');
}

/**
 * Attaches CEL rules to a schema: the CRD gets them as `x-kubernetes-validations`, and zod
 * runs each rule's `holds` twin with the same message.
 * Apply it to the innermost schema (before `.optional()`/`.default()`), as the apiserver only
 * evaluates a rule when the value is present.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly ValidationRule<z.output<S>>[]): S {
  const previous = (schema.meta()?.[VALIDATIONS_KEY] ?? []) as KubernetesValidation[];
  const checked = rules.filter((r): r is CheckedRule<z.output<S>> => 'holds' in r);
  const refined =
    checked.length === 0
      ? schema
      : schema.superRefine((value, ctx) => {
          for (const r of checked) {
            if (!r.holds(value)) ctx.addIssue({ code: 'custom', message: r.message, path: zodPath(r.fieldPath) });
          }
        });
  const validations: KubernetesValidation[] = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath }),
  }));
  return refined.meta({ [VALIDATIONS_KEY]: [...previous, ...validations] });
}

/** CEL and TS for "no element appears twice" on a list of scalars. */
export function uniqueItemsRule<T>(what: string): CheckedRule<readonly T[]> {
  return {
    // exists_one is O(n²) in CEL; callers bound the list with maxItems to keep the cost estimate low.
    rule: 'self.all(x, self.exists_one(y, y == x))',
    message: `${what} must not contain duplicates: remove the repeated entry`,
    holds: (self) => new Set(self).size === self.length,
  };
}
