/**
 * zod schema -> Kubernetes structural OpenAPI v3 schema.
 *
 * zod's `toJSONSchema()` emits JSON Schema 2020-12; the apiserver wants a *structural* schema
 * (apiextensions.k8s.io/v1, "Specifying a structural schema"): every node typed, no `$ref`,
 * no `additionalProperties: false`, `anyOf` only in the int-or-string shape. This module
 * translates what Herald's schemas use and throws on anything else, so an unsupported zod
 * construct fails the generator instead of producing a CRD the apiserver rejects.
 * @packageDocumentation
 */
import { z } from 'zod';

/** A node of an OpenAPI v3 schema as the apiserver accepts it (JSONSchemaProps). */
export interface JSONSchemaProps {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  items?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  required?: string[];
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message: string; reason?: string; fieldPath?: string }[];
}

type Raw = Record<string, unknown>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Keywords copied through unchanged. */
const PASSTHROUGH = [
  'description',
  'enum',
  'default',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'maxProperties',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/** Keywords handled explicitly below; anything else is an error. */
const HANDLED = new Set<string>([
  ...PASSTHROUGH,
  'type',
  'const',
  'format',
  'minimum',
  'maximum',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'anyOf',
  'x-kubernetes-int-or-string',
]);

function fail(path: string, what: string): never {
  throw new Error(`crdgen: ${what} at ${path}`);
}

function isRaw(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** zod writes unbounded z.int() as ±(2^53-1); those bounds are not the API's. */
function bound(v: unknown): number | undefined {
  if (typeof v !== 'number' || Math.abs(v) === Number.MAX_SAFE_INTEGER) return undefined;
  return v;
}

function intOrString(node: Raw, path: string): JSONSchemaProps {
  const branches = node['anyOf'];
  if (!Array.isArray(branches) || branches.length !== 2) fail(path, 'int-or-string needs anyOf [integer, string]');
  const int = branches.find((b): b is Raw => isRaw(b) && b['type'] === 'integer');
  const str = branches.find((b): b is Raw => isRaw(b) && b['type'] === 'string');
  if (!int || !str) fail(path, 'int-or-string needs anyOf [integer, string]');
  // The only anyOf a structural schema allows is this exact shape; value validations go on the
  // node itself, where the validator applies each to the JSON type it is defined for.
  const out: JSONSchemaProps = {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  };
  if (typeof node['description'] === 'string') out.description = node['description'];
  const minimum = bound(int['minimum']);
  const maximum = bound(int['maximum']);
  if (minimum !== undefined) out.minimum = minimum;
  if (maximum !== undefined) out.maximum = maximum;
  if (typeof str['pattern'] === 'string') out.pattern = str['pattern'];
  if (typeof str['maxLength'] === 'number') out.maxLength = str['maxLength'];
  if (Array.isArray(node['x-kubernetes-validations'])) {
    out['x-kubernetes-validations'] = node['x-kubernetes-validations'] as NonNullable<
      JSONSchemaProps['x-kubernetes-validations']
    >;
  }
  return out;
}

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

function typeOf(node: Raw, path: string): NonNullable<JSONSchemaProps['type']> {
  const type = node['type'];
  if (typeof type !== 'string' || !TYPES.has(type)) {
    // A zod union of primitives comes out as `type: [...]`; structural schemas allow one type.
    fail(path, `every node needs a single type (unions are only supported as int-or-string), got ${JSON.stringify(type)}`);
  }
  return type as NonNullable<JSONSchemaProps['type']>;
}

function numberKeywords(node: Raw, out: JSONSchemaProps): void {
  const minimum = bound(node['minimum']);
  const maximum = bound(node['maximum']);
  if (minimum !== undefined) out.minimum = minimum;
  if (maximum !== undefined) out.maximum = maximum;
  if (out.type === 'integer') {
    const fits32 = minimum !== undefined && maximum !== undefined && minimum >= INT32_MIN && maximum <= INT32_MAX;
    out.format = fits32 ? 'int32' : 'int64';
  }
}

function stringFormat(node: Raw, out: JSONSchemaProps, path: string): void {
  if (out.type !== 'string' || node['format'] !== 'date-time') fail(path, `unsupported format ${String(node['format'])}`);
  out.format = 'date-time';
  // zod adds a regex for ISO datetimes; the apiserver checks format date-time itself.
  delete out.pattern;
}

function objectKeywords(node: Raw, out: JSONSchemaProps, path: string): void {
  const props = node['properties'];
  const additional = node['additionalProperties'];
  if (props !== undefined && !isRaw(props)) fail(path, 'malformed properties');
  if (isRaw(props) && Object.keys(props).length > 0) {
    out.properties = {};
    // Sorted, as controller-gen does, so reordering zod fields does not churn the YAML.
    for (const name of Object.keys(props).sort()) {
      out.properties[name] = convert(props[name], `${path}.${name}`);
    }
    const required = node['required'];
    if (Array.isArray(required) && required.length > 0) out.required = [...(required as string[])].sort();
    // zod emits additionalProperties: false for strict objects; structural schemas forbid it
    // and prune unknown fields anyway.
    if (additional !== undefined && additional !== false) fail(path, 'properties with additionalProperties');
  } else if (isRaw(additional)) {
    if (Object.keys(additional).length === 0) fail(path, 'free-form map (looseObject/record of unknown)');
    out.additionalProperties = convert(additional, `${path}{}`);
  }
}

function convert(node: unknown, path: string): JSONSchemaProps {
  if (!isRaw(node)) fail(path, 'expected a schema object');
  if (node['x-kubernetes-int-or-string'] === true) return intOrString(node, path);
  const unsupported = Object.keys(node).filter((key) => !HANDLED.has(key));
  if (unsupported.length > 0) fail(path, `unsupported keyword ${JSON.stringify(unsupported[0])}`);
  if ('anyOf' in node) fail(path, 'anyOf (a zod union) is only supported for int-or-string');
  const type = typeOf(node, path);
  const out: JSONSchemaProps = { type };
  const target = out as Record<string, unknown>;
  for (const key of PASSTHROUGH) {
    if (node[key] !== undefined) target[key] = node[key];
  }
  if (node['const'] !== undefined) out.enum = [node['const']];

  const numeric = type === 'integer' || type === 'number';
  if (numeric) numberKeywords(node, out);
  else if (node['minimum'] !== undefined || node['maximum'] !== undefined) fail(path, 'minimum/maximum on a non-number');
  if (node['format'] !== undefined) stringFormat(node, out, path);

  if ((type === 'array') !== (node['items'] !== undefined)) fail(path, 'items must be given exactly for arrays');
  if (type === 'array') out.items = convert(node['items'], `${path}[]`);

  const objectish = 'properties' in node || 'additionalProperties' in node || 'required' in node;
  if (type === 'object') objectKeywords(node, out, path);
  else if (objectish) fail(path, 'object keywords on a non-object');
  return out;
}

/**
 * Converts a zod schema to a structural OpenAPI v3 schema, in zod's input view: fields with
 * defaults are optional and carry `default`, as the apiserver applies them on write.
 * @throws Error naming the path of the first construct a structural schema cannot express.
 */
export function toStructuralSchema(schema: z.ZodType): JSONSchemaProps {
  const raw = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'throw',
    cycles: 'throw',
    reused: 'inline',
    target: 'draft-2020-12',
  }) as Raw;
  delete raw['$schema'];
  return convert(raw, '');
}
