import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ImagesError } from './errors.js';

/**
 * Runs `fn` holding an exclusive lock on `file`, across processes. Test suites build the
 * same images at the same time (the images test, the cluster tests, the sandbox); taken
 * one after the other, the first builds and the rest find every step cached, where side
 * by side each would run npm ci and the TypeScript build on the same 2 cores.
 *
 * The lock is flock(1)'s, held by a child that lives until we close its stdin: the kernel
 * releases it when that child exits, so a killed test run never leaves a stale lock.
 */
export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  const holder = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => holder.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('error', (err) => reject(new ImagesError('ToolMissing', `flock (util-linux): ${err.message}`, { cause: err })));
    holder.once('close', (code) => reject(new ImagesError('CommandFailed', `flock ${file} exited ${code ?? '?'} before taking the lock`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await exited;
  }
}
