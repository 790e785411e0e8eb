import { spawn } from 'node:child_process';
import { ImagesError } from './errors.js';

/** Where a command's output goes while it runs (build logs are long; callers may tee them). */
export type LogSink = (chunk: string) => void;

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /** Kills the command (SIGKILL) after this long; default: no bound. */
  readonly timeoutMs?: number;
  /** Receives stdout and stderr as they arrive (stdout is still returned). */
  readonly log?: LogSink;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How much of a failed command's output an error message carries. */
const TAIL = 4000;

/** Runs a command to completion; never throws for a non-zero exit (see `run`). */
export function exec(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.log?.(d.toString());
    });
    child.stderr?.on('data', (d: Buffer) => {
      // Only the tail is ever reported; a long build would otherwise hold its whole log.
      stderr = (stderr + d.toString()).slice(-64 * TAIL);
      opts.log?.(d.toString());
    });
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new ImagesError('ToolMissing', `${cmd} is not installed (bash .ci/install-debian-packages.sh)`, { cause: err }) : new ImagesError('CommandFailed', `${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ stdout, stderr, code, signal });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and returns its stdout; a non-zero exit throws CommandFailed with the output's tail. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) {
    const tail = `${r.stdout.slice(-TAIL / 2)}${r.stderr.slice(-TAIL)}`.trim();
    throw new ImagesError('CommandFailed', `${cmd} ${args.join(' ')}: exited ${r.code ?? r.signal ?? '?'}${tail ? `\n${tail}` : ''}`);
  }
  return r.stdout;
}
