import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { LabError } from './errors.js';
import { distScript, type Lab } from './lab.js';
import type { Ping } from './pinger.js';

export type { Ping } from './pinger.js';

/** What {@link startPinger} needs of a lab: a way to start a process in a host's namespace. */
export type PingerSpawner = Pick<Lab, 'spawn'>;

export interface PingerOptions {
  /** Default 80. */
  readonly port?: number;
  /** A probe starts every `intervalMs`; default 10. */
  readonly intervalMs?: number;
  /** Each probe's bound, connect to last body byte; default 100. */
  readonly timeoutMs?: number;
  /** Called for each probe as its line arrives (lines arrive in completion order, not `seq` order). */
  readonly onPing?: (p: Ping) => void;
  /** How long to wait for the first probe's line before giving up; default 10 s. */
  readonly startTimeoutMs?: number;
}

/** A pinger running in a host's namespace (see {@link startPinger}). */
export interface Pinger {
  /** The probes reported so far, in arrival order. */
  results(): readonly Ping[];
  /** Stops it (SIGTERM; it reports the probes in flight, then exits) and returns every probe, sorted by `seq`. */
  stop(): Promise<readonly Ping[]>;
}

const pingLine = z.object({
  seq: z.number().int().nonnegative(),
  t: z.number(),
  ok: z.boolean(),
  node: z.string().nullable(),
  ms: z.number(),
  code: z.string(),
});

/** One line of `pinger.js` output, or undefined for anything else. */
export function parsePingLine(line: string): Ping | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = pingLine.safeParse(json);
  return r.success ? r.data : undefined;
}

const exited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

/**
 * Starts `dist/pinger.js` in `host`'s namespace against `ip:port` and resolves once its
 * first probe is reported (so traffic is flowing). Works with anything that can spawn in
 * a namespace the way {@link Lab.spawn} does; with a lab, `destroy` also stops it. Its
 * stdin is a pipe from this process, so it cannot outlive it.
 */
export async function startPinger(lab: PingerSpawner, host: string, ip: string, opts: PingerOptions = {}): Promise<Pinger> {
  const args = ['--ip', ip, '--port', String(opts.port ?? 80), '--interval-ms', String(opts.intervalMs ?? 10), '--timeout-ms', String(opts.timeoutMs ?? 100)];
  const child = lab.spawn(host, process.execPath, [distScript('pinger.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const pings: Ping[] = [];
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-2_000);
  });
  // EPIPE on the lifeline once the pinger has exited is expected.
  child.stdin?.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let first: (() => void) | undefined;
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const p = parsePingLine(line);
      if (p === undefined) return;
      pings.push(p);
      opts.onPing?.(p);
      first?.();
    });
  }

  const what = `pinger ${ip}:${opts.port ?? 80} from ${host}`;
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('CommandFailed', `${what}: no probe reported after ${startTimeoutMs} ms: ${stderr.trim()}`)), startTimeoutMs);
      first = () => {
        clearTimeout(timer);
        resolve();
      };
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new LabError('CommandFailed', `${what}: ${err.message}`, { cause: err }));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new LabError('CommandFailed', `${what}: exited (${code ?? signal}) before its first probe: ${stderr.trim()}`));
      });
    });
  } catch (err) {
    if (!exited(child)) child.kill('SIGKILL');
    throw err;
  } finally {
    first = undefined;
  }

  let stopping: Promise<readonly Ping[]> | undefined;
  return {
    results: () => pings,
    stop(): Promise<readonly Ping[]> {
      stopping ??= (async () => {
        if (!exited(child)) {
          // `ip netns exec` execs the command in place: the pid is the pinger's own.
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), (opts.timeoutMs ?? 100) + 5_000);
          await closed;
          clearTimeout(timer);
        } else {
          await closed;
        }
        return [...pings].sort((a, b) => a.seq - b.seq);
      })();
      return stopping;
    },
  };
}
