#!/usr/bin/env node
/**
 * `npm run sandbox [-- up|down ...]` (see USAGE in args.ts). `up` stays in the foreground
 * with everything running until Ctrl-C, SIGTERM, or `down` from another terminal. The table
 * (or the JSON report) goes to stdout, progress to stderr.
 */
import { existsSync } from 'node:fs';
import { parseArgs, USAGE } from './args.js';
import { downSandbox, Sandbox } from './sandbox.js';
import { renderReport, reportJson } from './table.js';

const log = (line: string): void => {
  process.stderr.write(`sandbox: ${line}\n`);
};

async function up(dir: string, prefix: string, json: boolean): Promise<number> {
  if (process.getuid?.() !== 0) {
    log('needs root (the cluster creates network namespaces, cgroups and mounts): run it as root');
    return 1;
  }
  const sandbox = new Sandbox({ dir, prefix, log });
  let stopping = false;
  let done: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    done = resolve;
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    // A second signal: leave now (the cluster's exit hook still tears down what it owns).
    if (stopping) process.exit(1);
    stopping = true;
    log(`${sig}: tearing down`);
    sandbox.close().then(
      () => {
        log('down');
        done();
      },
      (err: unknown) => {
        log(err instanceof Error ? err.message : String(err));
        process.exit(1);
      },
    );
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  try {
    const report = await sandbox.up();
    process.stdout.write(json ? reportJson(report) : renderReport(report));
  } catch (err) {
    if (stopping) {
      await stopped;
      return 0;
    }
    log(`failed: ${err instanceof Error ? err.message : String(err)}`);
    if (existsSync(sandbox.logDir)) log(`logs kept in ${sandbox.logDir} (the cluster's in ${sandbox.logDir}/cluster)`);
    return 1;
  }
  // Stay up: the timer keeps the process alive until a signal tears the sandbox down.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await stopped;
  clearInterval(keepAlive);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  const { command, dir, prefix, json } = parsed.args;
  if (command === 'up') return up(dir, prefix, json);
  const r = await downSandbox(dir, log);
  log(r === 'nothing' ? `nothing running from ${dir}` : 'down: everything removed');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
