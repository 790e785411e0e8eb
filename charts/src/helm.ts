import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveHelm } from '@herald/e2e-harness';
import { parseAllDocuments } from 'yaml';

/** charts/herald (the same depth from src/ and dist/). */
export const CHART_DIR = fileURLToPath(new URL('../herald', import.meta.url));

/** A rendered Kubernetes object; tests narrow it with the client library's types. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Chart values as a nested object (written to a values file, never --set: no escaping rules). */
export type Values = Record<string, unknown>;

let helmPath: string | undefined;
let helmHome: string | undefined;

/** The helm binary: HERALD_HELM, the tools cache, or built from its Go module on first use. */
export function helmBinary(): string {
  helmPath ??= resolveHelm({ log: (l) => process.stderr.write(`helm: ${l}\n`) }).helm;
  return helmPath;
}

/**
 * Runs helm with its config, cache and data folders in a throw-away directory,
 * so tests neither read nor write the user's repositories and plugins.
 */
export function runHelm(args: readonly string[], opts: { values?: Values; kubeconfig?: string } = {}): HelmResult {
  helmHome ??= mkdtempSync(join(tmpdir(), 'herald-helm-home-'));
  const work = mkdtempSync(join(tmpdir(), 'herald-helm-values-'));
  try {
    const extra: string[] = [];
    if (opts.values) {
      const file = join(work, 'values.json');
      writeFileSync(file, JSON.stringify(opts.values));
      extra.push('--values', file);
    }
    if (opts.kubeconfig) extra.push('--kubeconfig', opts.kubeconfig);
    const r = spawnSync(helmBinary(), [...args, ...extra], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: helmHome,
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      },
    });
    return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Parses helm's multi-document output; empty documents are dropped. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`helm output is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
    const obj: unknown = doc.toJS();
    if (obj !== null && obj !== undefined) out.push(obj as Manifest);
  }
  return out;
}

export interface RenderOptions {
  readonly values?: Values;
  readonly release?: string;
  readonly namespace?: string;
  /** Also emit crds/ (helm template --include-crds). */
  readonly includeCrds?: boolean;
}

/** `helm template`; throws with helm's message when rendering fails. */
export function render(opts: RenderOptions = {}): Manifest[] {
  const r = renderRaw(opts);
  if (r.status !== 0) throw new Error(`helm template failed (exit ${r.status}): ${r.stderr.trim()}`);
  return parseManifests(r.stdout);
}

/** `helm template` without interpreting the result (for failures and raw text). */
export function renderRaw(opts: RenderOptions = {}): HelmResult {
  const args = ['template', opts.release ?? 'herald', CHART_DIR, '--namespace', opts.namespace ?? 'herald-system'];
  if (opts.includeCrds) args.push('--include-crds');
  return runHelm(args, opts.values ? { values: opts.values } : {});
}

/** The one object of `kind` (and `name`, when given); throws naming what exists otherwise. */
export function only<T = Manifest>(objs: readonly Manifest[], kind: string, name?: string): T {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    const have = objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`expected exactly one ${kind}${name ? `/${name}` : ''}, found ${found.length} among: ${have}`);
  }
  return found[0] as T;
}
