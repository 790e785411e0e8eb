/**
 * `npm run bench` with no benchmark name: every benchmark in turn, each as its own child
 * process (`node dist/main.js NAME ARGS`), its JSON saved to results/<timestamp>/<name>.json,
 * then report.md and its SVG charts rendered there. A benchmark that fails (non-zero exit, no
 * JSON, or over its time limit) is saved as a failure record with the tail of its stderr, and
 * the others still run. `npm run bench -- report DIR` renders DIR's report again.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FailureRecord, renderReport, type BenchEntry } from './report.js';
import { round } from './stats.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
/** The repository root (dist/ is e2e/bench/dist): results/ there is git-ignored. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TAIL_LINES = 40;
/** After SIGTERM, how long a bench gets to tear its lab and control plane down. */
const KILL_GRACE_MS = 60_000;

export interface PlanItem {
  readonly name: string;
  /** Default sizes: the whole run takes about 15-25 minutes on a 2-core machine. */
  readonly args: readonly string[];
  /** `--quick`: a few minutes in all, to check that everything runs. */
  readonly quick: readonly string[];
  readonly timeoutMinutes: number;
}

/** Every benchmark, in the order `npm run bench` runs them (and the report shows them). */
export const PLAN: readonly PlanItem[] = [
  { name: 'controller', args: ['--services', '5000', '--sequential', '100'], quick: ['--services', '300', '--sequential', '10', '--trials', '1'], timeoutMinutes: 20 },
  { name: 'cold-start', args: ['--services', '10000'], quick: ['--services', '500', '--lists', '2'], timeoutMinutes: 25 },
  { name: 'l2-failover', args: ['--trials', '20'], quick: ['--trials', '2'], timeoutMinutes: 20 },
  { name: 'speaker-load', args: ['--services', '1000', '--idle-seconds', '30'], quick: ['--services', '50', '--idle-seconds', '5'], timeoutMinutes: 20 },
  { name: 'arp-flood', args: ['--rate', '10000', '--seconds', '10'], quick: ['--rate', '10000', '--seconds', '2'], timeoutMinutes: 10 },
  { name: 'bgp', args: ['--trials', '3', '--prefixes', '10000', '--status-trials', '30', '--bfd-trials', '5'], quick: ['--trials', '1', '--prefixes', '1000', '--status-trials', '5', '--bfd-trials', '2', '--fuzz-messages', '50000'], timeoutMinutes: 25 },
];

export interface RunFlags {
  readonly only: readonly string[] | undefined;
  readonly quick: boolean;
  readonly out: string | undefined;
}

/** `--only a,b`, `--quick`, `--out DIR`; refuses anything else and unknown bench names. */
export function parseRunFlags(argv: readonly string[], known: readonly string[]): RunFlags {
  let only: string[] | undefined;
  let quick = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only' || a === '--out') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} takes a value`);
      if (a === '--out') out = v;
      else only = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    } else throw new Error(`unknown flag ${a ?? ''} (want --only a,b, --quick, --out DIR)`);
  }
  const unknown = (only ?? []).filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new Error(`--only: no benchmark named ${unknown.join(', ')} (have ${known.join(', ')})`);
  return { only, quick, out };
}

/** A folder name for a run started at `d`: ISO time without colons (`2025-01-31T12-00-00Z`). */
export function timestampName(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** The last `n` non-empty lines of `text`. */
export function tailLines(text: string, n = TAIL_LINES): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').slice(-n);
}

/**
 * The JSON object a bench printed on stdout: all of it, or (should anything precede it) the
 * object starting at the last line that opens one.
 */
export function extractJson(stdout: string): Record<string, unknown> | undefined {
  const tryParse = (s: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(s);
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const whole = tryParse(stdout.trim());
  if (whole) return whole;
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]?.startsWith('{')) continue;
    const v = tryParse(lines.slice(i).join('\n').trim());
    if (v) return v;
  }
  return undefined;
}

interface ChildOutcome {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  readonly timedOut: boolean;
}

/** The bench currently running, so a signal to the runner reaches it. */
let current: ReturnType<typeof spawn> | undefined;
let interrupted: NodeJS.Signals | undefined;

function runChild(name: string, args: readonly string[], logPath: string, timeoutMs: number): Promise<ChildOutcome> {
  const t0 = performance.now();
  // Its own process group: a Ctrl-C reaches the runner only, which forwards one SIGTERM (a second
  // signal would make a bench exit before its teardown).
  const child = spawn(process.execPath, [MAIN, name, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  current = child;
  const logFile = createWriteStream(logPath);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => {
    process.stderr.write(b);
    logFile.write(b);
    stderr = (stderr + b.toString()).slice(-64_000);
  });
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`bench: ${name} over its ${timeoutMs / 60_000} min limit: SIGTERM\n`);
    child.kill('SIGTERM');
    killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  }, timeoutMs);
  return new Promise((resolveRun) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      current = undefined;
      logFile.end();
      resolveRun({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000, timedOut });
    });
  });
}

/** The saved file of one bench: its own JSON, or a failure record. */
export function outcomeJson(name: string, o: ChildOutcome, timeoutMinutes: number): { json: Record<string, unknown>; ok: boolean } {
  const parsed = o.code === 0 ? extractJson(o.stdout) : undefined;
  if (parsed && !o.timedOut) return { json: parsed, ok: true };
  const reason = o.timedOut ? `over its ${timeoutMinutes} min limit (stopped)` : o.code === 0 ? 'exit code 0 but no JSON object on stdout' : undefined;
  const failure: FailureRecord = { bench: name, failed: true, exitCode: o.code, signal: o.signal, ...(reason ? { reason } : {}), stderrTail: tailLines(o.stderr) };
  return { json: failure, ok: false };
}

const RunFile = z.object({
  started: z.string().optional(),
  mode: z.string().optional(),
  benches: z.array(z.object({ name: z.string(), args: z.array(z.string()).optional(), seconds: z.number().optional(), ok: z.boolean().optional() })).default([]),
});
type RunFile = z.infer<typeof RunFile>;

function writeReport(dir: string, entries: readonly BenchEntry[], run: RunFile): string {
  const r = renderReport(entries, { started: run.started, mode: run.mode });
  for (const f of r.files) writeFileSync(join(dir, f.name), f.content);
  const path = join(dir, 'report.md');
  writeFileSync(path, r.markdown);
  return path;
}

export async function runAll(argv: readonly string[], known: readonly string[]): Promise<number> {
  const flags = parseRunFlags(argv, known);
  const started = new Date();
  const dir = resolve(flags.out ?? join(REPO_ROOT, 'results', timestampName(started)));
  mkdirSync(dir, { recursive: true });
  const plan = PLAN.filter((p) => known.includes(p.name) && (flags.only === undefined || flags.only.includes(p.name)));
  const run: RunFile = { started: started.toISOString(), mode: flags.quick ? 'quick' : 'default', benches: [] };
  const entries: BenchEntry[] = [];
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    process.stderr.write(`bench: ${sig}: stopping ${current ? 'the running benchmark' : ''} and writing the report\n`);
    current?.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (const [i, p] of plan.entries()) {
      if (interrupted) break;
      const args = flags.quick ? p.quick : p.args;
      const timeoutMinutes = flags.quick ? Math.min(10, p.timeoutMinutes) : p.timeoutMinutes;
      process.stderr.write(`bench: [${i + 1}/${plan.length}] ${p.name} ${args.join(' ')}\n`);
      const o = await runChild(p.name, args, join(dir, `${p.name}.stderr.log`), timeoutMinutes * 60_000);
      const { json, ok } = outcomeJson(p.name, o, timeoutMinutes);
      writeFileSync(join(dir, `${p.name}.json`), `${JSON.stringify(json, null, 2)}\n`);
      const seconds = round(o.seconds, 1);
      run.benches.push({ name: p.name, args: [...args], seconds, ok });
      writeFileSync(join(dir, 'run.json'), `${JSON.stringify({ ...run, finished: new Date().toISOString() }, null, 2)}\n`);
      entries.push({ name: p.name, json, seconds, args });
      process.stderr.write(`bench: ${p.name} ${ok ? 'done' : 'FAILED'} in ${seconds} s\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const path = writeReport(dir, entries, run);
  process.stdout.write(`${path}\n`);
  if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
  return run.benches.every((b) => b.ok) ? 0 : 1;
}

/** `report DIR`: the report again from the JSON saved in DIR (run.json gives order and durations when present). */
export function rerender(argv: readonly string[]): number {
  const [d] = argv;
  if (d === undefined) throw new Error('usage: npm run bench -- report DIR');
  const dir = resolve(d);
  const runPath = join(dir, 'run.json');
  const run: RunFile = existsSync(runPath) ? RunFile.parse(JSON.parse(readFileSync(runPath, 'utf8'))) : { benches: [] };
  const saved = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'run.json').map((f) => f.slice(0, -'.json'.length));
  const order = [...run.benches.map((b) => b.name).filter((n) => saved.includes(n)), ...PLAN.map((p) => p.name).filter((n) => saved.includes(n)), ...saved.sort()];
  const names = [...new Set(order)];
  if (names.length === 0) throw new Error(`${dir}: no benchmark JSON to render`);
  const entries = names.map((name): BenchEntry => {
    const b = run.benches.find((x) => x.name === name);
    return { name, json: JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as unknown, seconds: b?.seconds, args: b?.args };
  });
  process.stdout.write(`${writeReport(dir, entries, run)}\n`);
  return 0;
}
