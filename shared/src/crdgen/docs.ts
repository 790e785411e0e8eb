/**
 * The API reference page (docs/reference/crds.md), generated from the same structural schemas
 * as the CRDs, so the page says exactly what the API server validates: types, defaults, bounds,
 * patterns and every CEL rule with its message. Written by `npm run gen:crds`; a unit test
 * fails when the committed page differs.
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ALL_KINDS, ConditionSchema, LabelSelectorSchema } from '../api/index.js';
import type { KindDefinition } from '../api/index.js';
import { openAPIV3Schema } from './crd.js';
import { toStructuralSchema } from './structural.js';
import type { JSONSchemaProps } from './structural.js';

/** First line of the generated page. */
export const DOCS_HEADER =
  '<!-- Generated from the zod schemas in shared/src/api by shared/src/crdgen/docs.ts. DO NOT EDIT. Regenerate with: npm run gen:crds -->\n';

/** docs/reference/crds.md of this repository (same depth from src/crdgen and dist/crdgen). */
export function defaultDocsPath(): string {
  return fileURLToPath(new URL('../../../docs/reference/crds.md', import.meta.url));
}

/** A schema that occurs in many places and is documented once, under its own heading. */
interface SharedType {
  readonly name: string;
  readonly schema: JSONSchemaProps;
  readonly fingerprint: string;
}

function sharedType(name: string, schema: JSONSchemaProps): SharedType {
  return { name, schema, fingerprint: JSON.stringify(schema) };
}

/** Built on first use: converting the zod schemas at import time would slow every importer. */
let sharedTypes: readonly SharedType[] | undefined;
function shared(): readonly SharedType[] {
  sharedTypes ??= [
    sharedType('LabelSelector', toStructuralSchema(LabelSelectorSchema)),
    sharedType('Condition', toStructuralSchema(ConditionSchema)),
  ];
  return sharedTypes;
}

function sharedTypeOf(node: JSONSchemaProps): SharedType | undefined {
  const text = JSON.stringify(node);
  return shared().find((t) => t.fingerprint === text);
}

/** One row of a field table. */
interface FieldRow {
  readonly path: string;
  readonly node: JSONSchemaProps;
  readonly required: boolean;
}

/** One CEL rule, where it applies. */
interface RuleRow {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
  /** Where the API server reports a failure, relative to `path` (`.keepaliveTime`). */
  readonly fieldPath?: string | undefined;
}

/** GitHub's heading anchors: lower case, spaces to dashes, other punctuation dropped. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

const isImmutableRule = (r: { rule: string }): boolean => r.rule === 'self == oldSelf';

/** The field's type as Go-like text: `[]string`, `map[string]string`, a link for shared types. */
function typeText(node: JSONSchemaProps): string {
  const named = sharedTypeOf(node);
  if (named) return `[${named.name}](#${anchor(named.name)})`;
  if (node['x-kubernetes-int-or-string']) return 'integer or string';
  if (node.type === 'array' && node.items) return `[]${typeText(node.items)}`;
  if (node.type === 'object' && node.additionalProperties) return `map[string]${typeText(node.additionalProperties)}`;
  if (node.type === 'string' && node.format === 'date-time') return 'string (RFC 3339 date-time)';
  return node.type ?? 'any';
}

function between(min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return min === max ? `${min}` : `${min} to ${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return undefined;
}

/** Bounds, patterns and enums of a primitive node (used for arrays' items too). */
function valueConstraints(node: JSONSchemaProps): string[] {
  const out: string[] = [];
  if (node.enum) out.push(`one of ${node.enum.map((v) => code(String(v))).join(', ')}`);
  const range = between(node.minimum, node.maximum);
  if (range) out.push(`value ${range}`);
  const length = between(node.minLength, node.maxLength);
  if (length) out.push(`length ${length}`);
  if (node.pattern !== undefined) out.push(`pattern ${code(node.pattern)}`);
  return out;
}

function constraintsText(row: FieldRow): string {
  const n = row.node;
  const out: string[] = [];
  if (row.required) out.push('**required**');
  if (n['x-kubernetes-validations']?.some(isImmutableRule)) out.push('immutable');
  if (sharedTypeOf(n) === undefined) out.push(...valueConstraints(n));
  if (n.type === 'array') {
    const items = between(n.minItems, n.maxItems);
    if (items) out.push(`${items} items`);
    if (n['x-kubernetes-list-type'] === 'map') out.push(`one item per ${(n['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')}`);
    if (n.items && n.items.type !== 'object' && n.items.type !== 'array') {
      const each = valueConstraints(n.items);
      if (each.length > 0) out.push(`each: ${each.join(', ')}`);
    }
  }
  if (n.maxProperties !== undefined) out.push(`at most ${n.maxProperties} entries`);
  return out.join('; ');
}

function defaultText(node: JSONSchemaProps): string {
  if (node.default === undefined) return '';
  return code(typeof node.default === 'string' ? node.default : JSON.stringify(node.default));
}

/** The node's CEL rules (not the immutability rule, which shows as a constraint). */
function collectRules(node: JSONSchemaProps, path: string, rules: RuleRow[]): void {
  for (const v of node['x-kubernetes-validations'] ?? []) {
    if (!isImmutableRule(v)) rules.push({ path, rule: v.rule, message: v.message, fieldPath: v.fieldPath });
  }
}

/**
 * Rows for the properties of `node`, depth first in key order. Shared types get one row and
 * no children; their rules are documented under their own heading.
 */
function walk(node: JSONSchemaProps, prefix: string, rows: FieldRow[], rules: RuleRow[]): void {
  const required = new Set(node.required ?? []);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    rows.push({ path, node: child, required: required.has(name) });
    descend(child, path, rows, rules);
  }
}

function descend(node: JSONSchemaProps, path: string, rows: FieldRow[], rules: RuleRow[]): void {
  if (sharedTypeOf(node)) return;
  collectRules(node, path, rules);
  if (node.type === 'array' && node.items) {
    if (sharedTypeOf(node.items)) return;
    if (node.items.properties) walk(node.items, `${path}[]`, rows, rules);
    collectRules(node.items, `${path}[]`, rules);
    return;
  }
  if (node.type === 'object' && node.additionalProperties) {
    collectRules(node.additionalProperties, `${path}{}`, rules);
    return;
  }
  if (node.properties) walk(node, path, rows, rules);
}

function fieldTable(rows: readonly FieldRow[]): string[] {
  const lines = ['| Field | Type | Default | Constraints | Description |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${code(r.path)} | ${cell(typeText(r.node))} | ${cell(defaultText(r.node))} | ${cell(constraintsText(r))} | ${cell(r.node.description ?? '')} |`,
    );
  }
  return lines;
}

function ruleList(rules: readonly RuleRow[]): string[] {
  if (rules.length === 0) return [];
  const lines = ['', "Validation rules (CEL, checked by the API server on every write; Herald's zod schemas carry the same rules):", ''];
  for (const r of rules) {
    const at = r.fieldPath === undefined ? '' : ` (reported at ${code(`${r.path}${r.fieldPath}`)})`;
    lines.push(`- ${code(r.path)}${at}: ${r.message}  `, `  ${code(r.rule)}`);
  }
  return lines;
}

/** A `spec` or `status` section: its description, the field table and the rules. */
function partSection(kind: string, part: 'spec' | 'status', node: JSONSchemaProps | undefined, required: boolean): string[] {
  const lines = [`### ${kind} ${part}`, ''];
  if (!node) return [...lines, 'None.', ''];
  const intro = [node.description ?? '', required ? `\`${part}\` is required.` : ''].filter((s) => s !== '').join(' ');
  if (intro !== '') lines.push(intro, '');
  const rows: FieldRow[] = [];
  const rules: RuleRow[] = [];
  const prefix = part;
  collectRules(node, prefix, rules);
  walk(node, '', rows, rules);
  if (rows.length === 0) lines.push('No fields.');
  else lines.push(...fieldTable(rows));
  // Rules read better with their full path (spec.x), as the API server reports them.
  lines.push(...ruleList(rules.map((r) => (r.path === prefix ? r : { ...r, path: `${prefix}.${r.path}` }))));
  return [...lines, ''];
}

function columnsText(def: KindDefinition): string[] {
  const normal = def.printerColumns.filter((c) => (c.priority ?? 0) === 0).map((c) => c.name);
  const wide = def.printerColumns.filter((c) => (c.priority ?? 0) > 0).map((c) => c.name);
  const parts = [`\`kubectl get ${def.plural}\` shows: ${normal.join(', ')}`];
  if (wide.length > 0) parts.push(`; with \`-o wide\` also ${wide.join(', ')}`);
  return [`${parts.join('')}.`];
}

function kindSection(def: KindDefinition): string[] {
  const schema = openAPIV3Schema(def);
  const required = new Set(schema.required ?? []);
  const lines = [
    `## ${def.kind}`,
    '',
    def.description,
    '',
    `\`apiVersion: ${def.apiVersion}\`, \`kind: ${def.kind}\`; resource \`${def.plural}\`, short name${def.shortNames.length === 1 ? '' : 's'} ${def.shortNames.map(code).join(', ')}, namespaced.`,
    ...columnsText(def),
    '',
    ...partSection(def.kind, 'spec', schema.properties?.['spec'], required.has('spec')),
    ...partSection(def.kind, 'status', schema.properties?.['status'], required.has('status')),
  ];
  return lines;
}

function sharedTypeSection(t: SharedType): string[] {
  const rows: FieldRow[] = [];
  const rules: RuleRow[] = [];
  walk(t.schema, '', rows, rules);
  return [`### ${t.name}`, '', t.schema.description ?? '', '', ...fieldTable(rows), ...ruleList(rules), ''];
}

/** The whole reference page for `kinds` (default: every herald.io kind). Deterministic. */
export function generateCrdReference(kinds: readonly KindDefinition[] = ALL_KINDS): string {
  const first = kinds[0];
  const apiVersion = first?.apiVersion ?? 'herald.io/v1beta1';
  const lines = [
    DOCS_HEADER.trimEnd(),
    '',
    `# API reference: ${apiVersion}`,
    '',
    'Generated from the zod schemas in `shared/src/api`, the same schemas that generate the CRDs in',
    '`charts/herald/crds`, so what this page says is what the API server enforces. Field names, types',
    "and defaults follow MetalLB's `metallb.io` API (see [migration](../migration-from-metallb.md)).",
    '',
    'Every kind is namespaced and in the `herald` category (`kubectl get herald` lists them all).',
    "Herald reads its configuration kinds only from its own namespace (the Helm release's), and",
    'writes the status kinds there. Paths in the tables are relative to `spec` or `status`; `[]`',
    'marks the items of a list.',
    '',
    '| Kind | Short name | What it is |',
    '|---|---|---|',
    ...kinds.map((k) => `| [${k.kind}](#${anchor(k.kind)}) | ${k.shortNames.map(code).join(', ')} | ${cell(k.description)} |`),
    '',
  ];
  for (const def of kinds) lines.push(...kindSection(def));
  lines.push('## Shared types', '');
  for (const t of shared()) lines.push(...sharedTypeSection(t));
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** How the page at `path` differs from `text`: undefined when identical. */
export function compareDocs(text: string, path: string): 'missing' | 'changed' | undefined {
  if (!existsSync(path)) return 'missing';
  return readFileSync(path, 'utf8') === text ? undefined : 'changed';
}
