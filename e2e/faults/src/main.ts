#!/usr/bin/env node
/**
 * `npm run faults -- [--long] [NAME...]`: runs the fault tests (all, or the ones named) at CI
 * size, or at full size with --long, and prints one JSON object with every report on stdout
 * (progress on stderr). Exit code 0 when every check passed, 1 otherwise, 2 for bad arguments.
 * The L2 and BGP faults need root (network namespaces); they run on a control plane this
 * command starts (or the one HERALD_TEST_KUBECONFIG names); fault 1 starts its own.
 */
import { cpus, release } from 'node:os';
import { KUBERNETES_VERSION, startControlPlane, type ControlPlane } from '@herald/e2e-harness';
import { FAULTS, type FaultName } from './faults.js';
import { errorText, round, type FaultReport, type Size } from './report.js';

const USAGE = `usage: npm run faults -- [--long] [${Object.keys(FAULTS).join('|')} ...]`;

function parse(argv: readonly string[]): { size: Size; names: FaultName[] } | string {
  let size: Size = 'ci';
  const names: FaultName[] = [];
  for (const a of argv) {
    if (a === '--long') size = 'long';
    else if (a in FAULTS) names.push(a as FaultName);
    else return `unknown argument ${JSON.stringify(a)}\n${USAGE}`;
  }
  return { size, names: names.length > 0 ? names : (Object.keys(FAULTS) as FaultName[]) };
}

const log = (line: string): void => {
  process.stderr.write(`faults: ${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const args = parse(argv);
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n`);
    return 2;
  }
  const started = Date.now();
  let cp: ControlPlane | undefined;
  // A signal stops the run; each fault's `finally` and the lab's exit hooks clean up.
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    const code = sig === 'SIGINT' ? 130 : 143;
    if (signalled) process.exit(code);
    signalled = true;
    log(`${sig}: stopping`);
    void (cp?.stop() ?? Promise.resolve()).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const reports: Record<string, FaultReport | { error: string }> = {};
  try {
    const needShared = args.names.some((n) => FAULTS[n].sharedControlPlane);
    if (needShared && !process.env['HERALD_TEST_KUBECONFIG']) {
      cp = await startControlPlane({ log: (l) => log(`control plane: ${l}`), handleSignals: false });
      process.env['HERALD_TEST_KUBECONFIG'] = cp.kubeconfigPath;
    }
    for (const name of args.names) {
      log(`${name} (${args.size})`);
      if (FAULTS[name].needsRoot && process.getuid?.() !== 0) {
        reports[name] = { error: 'needs root: it builds network namespaces' };
        log(`${name}: skipped: needs root`);
        continue;
      }
      try {
        const r = await FAULTS[name].run(args.size, (l) => log(`${name}: ${l}`));
        reports[name] = r;
        log(`${name}: ${r.passed ? 'passed' : `FAILED: ${r.checks.filter((c) => !c.ok).map((c) => c.name).join('; ')}`} in ${r.durationSeconds} s`);
      } catch (err) {
        reports[name] = { error: errorText(err) };
        log(`${name}: error: ${errorText(err)}`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cp?.stop();
  }
  const passed = Object.values(reports).every((r) => 'passed' in r && r.passed);
  const out = {
    faults: reports,
    size: args.size,
    passed,
    durationSeconds: round((Date.now() - started) / 1000, 1),
    machine: { cpus: cpus().length, node: process.version, kernel: release(), kubernetes: KUBERNETES_VERSION },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`faults: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
