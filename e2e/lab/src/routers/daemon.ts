/** Long-lived router daemons in a lab host: started with `lab.spawn`, output kept for failure messages. */
import type { ChildProcess } from 'node:child_process';
import { LabError } from '../errors.js';
import type { Lab } from '../lab.js';

const LOG_TAIL = 16_000;

/** One daemon process: its name, the child, the tail of its stdout+stderr. */
export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  /** Exit code or signal once it has exited. */
  exit?: string;
}

/** The daemons of one router; `lab.destroy` kills them too, should {@link Daemons.stop} never run. */
export class Daemons {
  readonly list: Daemon[] = [];
  private tail = '';
  private stopping = false;

  constructor(
    private readonly lab: Lab,
    private readonly host: string,
  ) {}

  /** Starts `cmd args` in the host; the daemon must stay in the foreground. */
  spawn(name: string, cmd: string, args: readonly string[]): Daemon {
    const child = this.lab.spawn(this.host, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const d: Daemon = { name, child };
    this.list.push(d);
    const keep = (b: Buffer): void => {
      this.tail = (this.tail + b.toString('utf8').replace(/^/gm, `[${name}] `)).slice(-LOG_TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err) => keep(Buffer.from(`spawn ${cmd}: ${err.message}\n`)));
    child.once('exit', (code, signal) => {
      d.exit = String(code ?? signal);
      if (!this.stopping) keep(Buffer.from(`exited (${d.exit})\n`));
    });
    // A forgotten router must not keep the test process alive; lab.destroy still kills it.
    child.unref();
    for (const s of [child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
    return d;
  }

  logs(): string {
    return this.tail;
  }

  /** Throws `CommandFailed` with the logs if any daemon has exited. */
  checkAlive(what: string): void {
    const dead = this.list.find((d) => d.exit !== undefined || d.child.exitCode !== null || d.child.signalCode !== null);
    if (dead) throw new LabError('CommandFailed', `${what}: ${dead.name} exited (${dead.exit ?? dead.child.exitCode ?? dead.child.signalCode}):\n${this.tail}`);
  }

  /** SIGTERM to each, in reverse start order; SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    for (const d of [...this.list].reverse()) await stopOne(d.child, graceMs);
  }
}

function running(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

async function stopOne(child: ChildProcess, graceMs: number): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (running(child)) child.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([exited, killed]);
  clearTimeout(timer);
  if (running(child)) await exited;
}
