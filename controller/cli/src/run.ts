/**
 * Runs one `herald` command: argv and injected I/O in, stdout text, stderr text and an
 * exit code out. Never exits and never writes to the process streams (main does), so every
 * path, errors included, is testable with a fake {@link ClusterApi}.
 * @packageDocumentation
 */
import { stringify } from 'yaml';
import { HeraldError, errorMessage } from '@herald/shared/core';
import { helpText, parseArgs, type GlobalOptions, type OutputFormat } from './args.js';
import type { ClusterApi } from './api.js';
import { EXIT, errorLine, exitCodeFor, notFound, UsageError, type ExitCode } from './errors.js';
import { explain, loadExplain, renderExplanation } from './explain.js';
import { convertMetalLB, hasLoss, loadMetalLBFromCluster, parseDocuments, problemLines, renderImport, type ImportProblem } from './metallb.js';
import { buildStatus, loadStatus, renderStatus } from './status.js';

export interface RunDeps {
  /** The cluster for these options (kubeconfig, context, timeout); called only by commands that need one. */
  readonly api: (opts: GlobalOptions) => ClusterApi;
  readonly now: () => number;
  /** Reads `-f FILE`; `-` is stdin. */
  readonly readInput: (file: string) => Promise<string>;
  readonly env: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: ExitCode;
}

/** Data as `-o json` or `-o yaml`. */
export function formatData(data: unknown, format: Exclude<OutputFormat, 'table'>): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}

async function readInput(deps: RunDeps, file: string): Promise<string> {
  try {
    return await deps.readInput(file);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') throw notFound(`-f ${file}: no such file`);
    throw new HeraldError('InvalidConfig', `-f ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

async function importMetalLB(deps: RunDeps, opts: GlobalOptions, source: { file: string } | { fromCluster: true }): Promise<RunResult> {
  let docs: unknown[];
  let notes: ImportProblem[] = [];
  if ('file' in source) {
    docs = parseDocuments(await readInput(deps, source.file), source.file === '-' ? 'stdin' : source.file);
  } else {
    ({ docs, notes } = await loadMetalLBFromCluster(deps.api(opts)));
  }
  const converted = convertMetalLB(docs, opts.namespace);
  const result = { objects: converted.objects, problems: [...notes, ...converted.problems] };
  const count = (s: string): number => result.problems.filter((p) => p.severity === s).length;
  const lines = problemLines(result).map((l) => `herald: ${l}`);
  lines.push(`herald: converted ${result.objects.length} object(s) into namespace ${opts.namespace}; ${count('error')} error(s), ${count('warning')} warning(s), ${count('note')} note(s)`);
  return { stdout: renderImport(result, opts.output === 'json' ? 'json' : 'yaml'), stderr: `${lines.join('\n')}\n`, code: hasLoss(result) ? EXIT.unhealthy : EXIT.ok };
}

async function dispatch(argv: readonly string[], deps: RunDeps): Promise<RunResult> {
  const cmd = parseArgs(argv, deps.env);
  switch (cmd.name) {
    case 'help':
      return { stdout: `${helpText(cmd.topic)}\n`, stderr: '', code: EXIT.ok };
    case 'status': {
      const { opts } = cmd;
      const report = buildStatus(await loadStatus(deps.api(opts), { namespace: opts.namespace, lbClass: opts.lbClass, now: deps.now }));
      const stdout = opts.output === 'table' ? renderStatus(report) : formatData({ ...report, healthy: report.problems.length === 0 }, opts.output);
      return { stdout, stderr: '', code: report.problems.length === 0 ? EXIT.ok : EXIT.unhealthy };
    }
    case 'explain': {
      const { opts } = cmd;
      const e = explain(await loadExplain(deps.api(opts), { namespace: opts.namespace, lbClass: opts.lbClass, service: cmd.service, now: deps.now }));
      const stdout = opts.output === 'table' ? renderExplanation(e) : formatData(e, opts.output);
      return { stdout, stderr: '', code: e.healthy ? EXIT.ok : EXIT.unhealthy };
    }
    case 'import-metallb':
      return importMetalLB(deps, cmd.opts, cmd.source);
  }
}

/** Runs `herald ARGV`. Errors become one `herald: ...` line on stderr and their exit code. */
export async function run(argv: readonly string[], deps: RunDeps): Promise<RunResult> {
  try {
    return await dispatch(argv, deps);
  } catch (err) {
    const hint = err instanceof UsageError ? '\nRun "herald --help" for usage.' : '';
    return { stdout: '', stderr: `herald: ${errorLine(err)}${hint}\n`, code: exitCodeFor(err) };
  }
}
