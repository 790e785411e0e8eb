/**
 * Test support for the CLI: builds `dist/` when the sources are newer, spawns
 * `node dist/cli/main.js`, collects its JSON lines and waits for events.
 * Not exported from the package entry.
 * @packageDocumentation
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The package root: this file sits in src/cli (tests) or dist/cli (built). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_PATH = join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

async function builtAt(): Promise<number> {
  try {
    return (await stat(CLI_PATH)).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Runs `tsc -p tsconfig.build.json` unless dist/cli/main.js is newer than every source file.
 * A directory lock keeps two test files from building at once.
 */
export async function ensureBuilt(timeoutMs = 180_000): Promise<void> {
  const lock = join(tmpdir(), `bgp-speaker-lite-build-${Buffer.from(PACKAGE_ROOT).toString('hex').slice(-32)}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock older than any build is left over from a killed run.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > timeoutMs) {
        await rmdir(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for ${timeoutMs} ms (remove it if no build runs)`, { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if ((await builtAt()) > (await newestSource(join(PACKAGE_ROOT, 'src')))) return;
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    try {
      await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: PACKAGE_ROOT, timeout: timeoutMs });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`building ${PACKAGE_ROOT} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
    }
  } finally {
    await rmdir(lock);
  }
}

/** One output line of the CLI. */
export type CliEvent = { readonly event: string } & Readonly<Record<string, unknown>>;

/** A running `bgp-lite` with its output collected. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly events: CliEvent[] = [];
  /** Lines of stdout that were not JSON (there should be none). */
  readonly junk: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #partial = '';

  private constructor(args: readonly string[]) {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.#onStdout(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (this.stderr += chunk));
    // Writing to the stdin of a process that has exited fails with EPIPE; the exit is what tests check.
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      }),
    );
  }

  static start(args: readonly string[]): CliProcess {
    return new CliProcess(args);
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The session state from the last `state` event. */
  get peerState(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if (e?.event === 'state') return String(e.to);
    }
    return undefined;
  }

  #onStdout(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const text of lines) {
      if (text === '') continue;
      try {
        this.events.push(JSON.parse(text) as CliEvent);
      } catch {
        this.junk.push(text);
      }
    }
  }

  /** Writes one command line to stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** The first event at or after `from` matching `match`; waits up to `timeoutMs`. */
  async waitFor(what: string, match: (e: CliEvent) => boolean, from = 0, timeoutMs = 10_000): Promise<CliEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      if (!this.running) throw new Error(`bgp-lite exited (${JSON.stringify(this.#exit)}) before ${what}\n${this.transcript()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.transcript()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `show` and returns its answer. */
  async show(): Promise<CliEvent> {
    const from = this.events.length;
    this.send('show');
    return this.waitFor('show', (e) => e.event === 'show', from);
  }

  /** Everything seen, for failure messages. */
  transcript(): string {
    return `--- stdout\n${this.events.map((e) => JSON.stringify(e)).join('\n')}\n--- stderr\n${this.stderr}`;
  }

  /** Ends the process: stdin EOF (which quits), then SIGKILL if it lingers. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
