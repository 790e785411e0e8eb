/** What the three router kinds share: their folder, daemons, kernel table, stop. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { onProcessExit } from '@herald/e2e-harness';
import type { Lab } from '../lab.js';
import { describeFailure, type ExecResult } from '../run.js';
import type { ResolvedConfig } from './config.js';
import { Daemons } from './daemon.js';
import { parseKernelRoutes } from './parse-kernel.js';
import type { Afi, KernelRoute, LearnedRoute, NeighborStatus, Router, RouterConfig, RouterKind } from './types.js';

/** Where a router keeps its files: a fresh folder under the system temp dir, removed on stop or process exit. */
export class RouterDir {
  readonly path: string;
  private readonly unregister: () => void;

  constructor(kind: RouterKind, lab: Lab, host: string) {
    // Not under lab.dir: FRR drops to the frr user, which must reach its folder, and lab.dir is private.
    this.path = mkdtempSync(join(tmpdir(), `herald-${kind}-${lab.prefix}-${host}-`));
    chmodSync(this.path, 0o755);
    const path = this.path;
    this.unregister = onProcessExit(() => rmSync(path, { recursive: true, force: true }));
  }

  file(name: string): string {
    return join(this.path, name);
  }

  write(files: Readonly<Record<string, string | undefined>>): void {
    for (const [name, text] of Object.entries(files)) if (text !== undefined) writeFileSync(this.file(name), text, { mode: 0o644 });
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
    this.unregister();
  }
}

export abstract class RouterBase implements Router {
  abstract readonly kind: RouterKind;
  private stopping: Promise<void> | undefined;

  constructor(
    protected readonly lab: Lab,
    readonly host: string,
    readonly config: RouterConfig,
    protected readonly resolved: ResolvedConfig,
    protected readonly rdir: RouterDir,
    protected readonly daemons: Daemons,
    readonly configFiles: Readonly<Record<string, string>>,
  ) {}

  get dir(): string {
    return this.rdir.path;
  }

  abstract routes(afi: Afi): Promise<LearnedRoute[]>;
  abstract neighbors(): Promise<NeighborStatus[]>;

  /** Runs a command in the router's host; throws `CommandFailed` (with the daemons' logs) on a non-zero exit. */
  protected async run(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<ExecResult> {
    const r = await this.lab.exec(this.host, cmd, args, { timeoutMs });
    if (r.status !== 0) {
      this.daemons.checkAlive(`${this.kind} in ${this.host}`);
      throw new LabError('CommandFailed', describeFailure(`${this.kind} in ${this.host}: ${cmd} ${args.join(' ')}`, r));
    }
    return r;
  }

  async kernelRoutes(afi: Afi): Promise<KernelRoute[]> {
    const r = await this.run('ip', ['-j', afi === 'ipv4' ? '-4' : '-6', 'route', 'show']);
    return parseKernelRoutes(r.stdout, afi);
  }

  logs(): string {
    return this.daemons.logs();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.daemons.stop();
        this.afterStop();
      } finally {
        this.rdir.remove();
      }
    })();
    return this.stopping;
  }

  /** Kind-specific cleanup once the daemons are gone. */
  protected afterStop(): void {}
}
