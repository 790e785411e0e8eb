/** Running commands, in the root namespace or a cluster host's network namespace. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The outcome of a finished command; `status` is 128+signal when it was killed. */
export interface ExecResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Kill the command (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number;
  /** Extra environment variables. */
  env?: Readonly<Record<string, string>>;
}

const SIGNALS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs a command to completion without blocking the event loop. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
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

/** The synchronous twin, for exit hooks and the CLI's simple paths. */
export function runSync(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): ExecResult {
  const r = spawnSync(cmd, args, { input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** One-line summary of a failed command for error messages. */
export function describeFailure(what: string, r: ExecResult): string {
  const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
  return `${what}: exit ${r.status}${detail ? `: ${detail}` : ''}`;
}

/**
 * `nsenter --net=/run/netns/NS`: only the network namespace changes. Not `ip netns exec`,
 * which also unshares the mount namespace and remounts /sys (hiding /sys/fs/cgroup from
 * the kubelet, and mounts from the host). nsenter execs the command, so a daemon started
 * this way keeps nsenter's pid.
 */
export function inNetns(ns: string, cmd: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=/run/netns/${ns}`, '--', cmd, ...args]];
}

/** A process's start time (clock ticks after boot), or undefined when it is gone. */
export function procStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; fields after the parenthesised command name start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * crictl's arguments for one node's containerd. `--config /dev/null`: the endpoints are
 * given here, and crictl otherwise warns on every call that /etc/crictl.yaml is missing.
 */
export function crictlArgs(socket: string): string[] {
  const ep = `unix://${socket}`;
  return ['--config', '/dev/null', '--runtime-endpoint', ep, '--image-endpoint', ep];
}
