#!/usr/bin/env node
/**
 * herald (and kubectl-herald): wires the real cluster, files and clock into `run`, writes
 * what it returns, exits with its code. Everything else lives in importable modules.
 */
import { readFile } from 'node:fs/promises';
import { PooledKubeConfig } from '@herald/shared/kube';
import { KubeClusterApi, loadClusterConfig } from './api.js';
import { run } from './run.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const write = (stream: NodeJS.WriteStream, text: string): Promise<void> => new Promise((resolve) => (text === '' ? resolve() : stream.write(text, () => resolve())));

async function main(): Promise<number> {
  const configs: PooledKubeConfig[] = [];
  const result = await run(process.argv.slice(2), {
    api: (opts) => {
      const kc = loadClusterConfig(opts);
      if (kc instanceof PooledKubeConfig) configs.push(kc);
      return new KubeClusterApi(kc, opts.timeoutMs);
    },
    now: () => Date.now(),
    readInput: (file) => (file === '-' ? readStdin() : readFile(file, 'utf8')),
    env: process.env,
  });
  for (const kc of configs) kc.closeIdle();
  await write(process.stdout, result.stdout);
  await write(process.stderr, result.stderr);
  return result.code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`herald: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(4);
  },
);
