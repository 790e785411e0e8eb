/**
 * The sandbox's state file (`DIR/sandbox.json`): who runs it and what it created, so that
 * `npm run sandbox -- down` from another terminal can stop it, and can sweep what a killed
 * sandbox left behind (the cluster, by the cluster's own `down` on its folder).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const STATE_FILE = 'sandbox.json';

const stateSchema = z.object({
  version: z.literal(2),
  /** The process that runs the sandbox (the `npm run sandbox` foreground process). */
  pid: z.number().int().positive(),
  /** The cluster's prefix (`<prefix>-node-1`, ...). */
  prefix: z.string(),
  startedAt: z.string(),
  /** The cluster's folder: `stopCluster` on it removes exactly what the cluster created. */
  clusterDir: z.string(),
  /** Folders outside DIR that the sandbox created (Helm's home, FRR's folder). */
  folders: z.array(z.string()),
  /** `up` once the table was printed. */
  phase: z.enum(['starting', 'up']),
});

export type SandboxState = z.infer<typeof stateSchema>;

export function statePath(dir: string): string {
  return join(dir, STATE_FILE);
}

/** The state in `dir`, undefined when there is none; throws on a file that is not ours. */
export function readState(dir: string): SandboxState | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  const r = stateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!r.success) throw new Error(`${file}: not a sandbox state file of this version (${r.error.issues[0]?.message ?? 'invalid'}); remove it by hand`);
  return r.data;
}

/** Writes atomically (a reader never sees half a file). */
export function writeState(dir: string, s: SandboxState): void {
  const file = statePath(dir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(stateSchema.parse(s), null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
