import { spawn, spawnSync } from 'node:child_process';

/** The outcome of a finished command; `status` is 128+signal when it was killed. */
export interface ExecResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Kill the command (SIGKILL) after this long; default 30 s. */
  timeoutMs?: number;
}

const SIGNALS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs a command to completion without blocking the event loop (forwarders may live in this process's children). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // EPIPE when the command exits without reading its input: its status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8') + (spawnError ? `${cmd}: ${spawnError.message}` : '');
      const status = code ?? (signal ? 128 + (SIGNALS[signal] ?? 0) : 1);
      resolve({ status: spawnError && code === null ? 127 : status, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
  });
}

/** The synchronous twin, for process-exit cleanup only (no event loop left there). */
export function runSync(cmd: string, args: readonly string[], input?: string): ExecResult {
  const r = spawnSync(cmd, args, { input: input ?? '', encoding: 'utf8', timeout: 10_000 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** One-line summary of a failed command for error messages. */
export function describeFailure(what: string, r: ExecResult): string {
  const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
  return `${what}: exit ${r.status}${detail ? `: ${detail}` : ''}`;
}
