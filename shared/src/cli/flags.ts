import { z } from 'zod';

/** One command-line flag, also readable from an environment variable. */
export interface FlagSpec<T extends z.ZodType = z.ZodType> {
  /** Without the leading dashes: `metrics-addr`. */
  readonly name: string;
  readonly env: string;
  /** Booleans take no value (`--leader-elect`) but accept `--flag=false`. */
  readonly boolean?: boolean;
  readonly schema: T;
  readonly help: string;
}

export type FlagValues<S extends Record<string, FlagSpec>> = { [K in keyof S]: z.output<S[K]['schema']> };

/** A flag error: the one-line reason main prints before exiting 2. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name`, falling back to
 * each flag's environment variable, then validates every value with its zod
 * schema. Flags win over the environment. Throws FlagError with one line.
 */
export function parseFlags<S extends Record<string, FlagSpec>>(specs: S, argv: readonly string[], env: NodeJS.ProcessEnv): FlagValues<S> {
  const byName = new Map(Object.entries(specs).map(([key, s]) => [s.name, { key, s }]));
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new FlagError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const found = byName.get(name);
    if (!found) throw new FlagError(`unknown flag --${name} (known: ${[...byName.keys()].map((n) => `--${n}`).join(', ')})`);
    if (eq !== -1) raw.set(found.key, arg.slice(eq + 1));
    else if (found.s.boolean) raw.set(found.key, 'true');
    else {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new FlagError(`flag --${name} needs a value`);
      raw.set(found.key, v);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(specs)) {
    const text = raw.get(key) ?? env[s.env];
    let value: unknown = text;
    if (s.boolean && text !== undefined) {
      if (!['true', 'false', '1', '0'].includes(text)) throw new FlagError(`--${s.name} (or ${s.env}) must be true or false, got "${text}"`);
      value = text === 'true' || text === '1';
    }
    const r = s.schema.safeParse(value);
    if (!r.success) {
      const from = raw.has(key) ? `--${s.name}` : env[s.env] !== undefined ? s.env : `--${s.name} (or ${s.env})`;
      throw new FlagError(`${from}: ${r.error.issues[0]?.message ?? 'invalid'}${text === undefined ? '' : ` (got "${text}")`}`);
    }
    out[key] = r.data;
  }
  return out as FlagValues<S>;
}

/** `HOST:PORT` (IPv6 hosts in brackets); port 0 picks a free one. */
export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'expected HOST:PORT, e.g. 0.0.0.0:7472 or [::]:7472')
  .transform((s) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(s.slice(i + 1)) };
  })
  .refine((a) => a.port <= 65535, 'port must be 0-65535');

export const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'expected one of trace, debug, info, warn, error, fatal, silent' });

/** A DNS-1123 label such as a namespace name. */
export const dnsLabel = z.string({ error: 'is required' }).regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, "-")');

/** A Service spec.loadBalancerClass value (a label-style name); the controller and the speaker must agree on it. */
export const loadBalancerClass = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a label-style name such as herald.io/lb');

/** Usage text from the specs. */
export function usage(command: string, specs: Record<string, FlagSpec>): string {
  const lines = Object.values(specs).map((s) => `  --${s.name}${s.boolean ? '' : ' VALUE'}  (${s.env})  ${s.help}`);
  return [`usage: ${command} [flags]`, ...lines].join('\n');
}
