/**
 * Kubernetes label selectors (metav1.LabelSelector), evaluated the way the API
 * server does: matchLabels AND every matchExpression. An empty selector matches
 * everything; a selector is a filter, never a reason to crash, so operators we
 * do not know are reported by `validateSelector` and match nothing.
 */

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | undefined;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | undefined;
}

export type Labels = Readonly<Record<string, string>>;

function requirementMatches(req: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value as string);
    case 'NotIn':
      return !has || !values.includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

/** True when `labels` satisfy `selector` (all of matchLabels and all matchExpressions). */
export function selectorMatches(selector: LabelSelector, labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  return (selector.matchExpressions ?? []).every((r) => requirementMatches(r, l));
}

/** True when any selector in the list matches (how MetalLB reads `namespaceSelectors`, `nodeSelectors` ...). */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Labels | undefined): boolean {
  return selectors.some((s) => selectorMatches(s, labels));
}

/** Why a selector cannot match as written, or undefined when it is well-formed. */
export function validateSelector(selector: LabelSelector): string | undefined {
  for (const r of selector.matchExpressions ?? []) {
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) return `${r.key} ${r.operator} needs at least one value`;
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) return `${r.key} ${r.operator} takes no values`;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(r.operator)) return `unknown operator ${r.operator} for ${r.key}`;
  }
  return undefined;
}
