#!/usr/bin/env node
/**
 * `npm run control-plane -- COMMAND`: the local control plane's command line.
 *   up --dir DIR                 start in the background, print DIR/kubeconfig, exit 0
 *   down --dir DIR               stop and remove its data (harmless when nothing runs)
 *   kubectl --dir DIR -- ARGS    run kubectl against it
 *   tools                        make sure the binaries (etcd, kube-apiserver, kubectl; helm for the
 *                                chart tests) exist, building them if needed; print the control
 *                                plane's folder, then helm's path
 *   with [--dir DIR] -- CMD ...  start one, run CMD with HERALD_TEST_KUBECONFIG set, stop it, exit with CMD's code
 * Progress goes to stderr; stdout carries only the results named above.
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { attachControlPlane, startControlPlane, stopControlPlane } from './control-plane.js';
import { HarnessError } from './errors.js';
import { resolveHelm, resolveTools } from './tools.js';

const USAGE = 'usage: control-plane up|down --dir DIR | kubectl --dir DIR -- ARGS... | tools | with [--dir DIR] -- CMD ARGS...';

interface Parsed {
  command: string;
  dir: string | undefined;
  rest: string[];
}

function parse(argv: string[]): Parsed {
  const sep = argv.indexOf('--');
  const head = sep === -1 ? argv : argv.slice(0, sep);
  const rest = sep === -1 ? [] : argv.slice(sep + 1);
  const [command, ...flags] = head;
  let dir: string | undefined;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (f === '--dir') dir = flags[++i];
    else if (f?.startsWith('--dir=')) dir = f.slice('--dir='.length);
    else throw new HarnessError('Usage', `unknown argument ${f}\n${USAGE}`);
  }
  if (!command) throw new HarnessError('Usage', USAGE);
  return { command, dir: dir === undefined ? undefined : resolve(dir), rest };
}

const log = (line: string): void => {
  process.stderr.write(`control-plane: ${line}\n`);
};

function needDir(p: Parsed): string {
  if (!p.dir) throw new HarnessError('Usage', `${p.command} needs --dir DIR\n${USAGE}`);
  return p.dir;
}

async function main(argv: string[]): Promise<number> {
  const p = parse(argv);
  switch (p.command) {
    case 'up': {
      const t0 = Date.now();
      const cp = await startControlPlane({ dir: needDir(p), log, killOnExit: false });
      log(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s (binaries from ${cp.tools.source}: ${cp.tools.dir})`);
      process.stdout.write(`${cp.kubeconfigPath}\n`);
      return 0;
    }
    case 'down': {
      const stopped = await stopControlPlane(needDir(p));
      log(stopped ? `stopped and removed ${p.dir}` : `nothing running in ${p.dir}`);
      return 0;
    }
    case 'kubectl': {
      const dir = needDir(p);
      const cp = attachControlPlane(dir);
      if (!cp) throw new HarnessError('BadState', `no control plane in ${dir}; run \`control-plane up --dir ${dir}\` first`);
      const r = spawnSync(cp.tools.kubectl, ['--kubeconfig', cp.kubeconfigPath, ...p.rest], { stdio: 'inherit' });
      return r.status ?? 1;
    }
    case 'tools': {
      const t = resolveTools({ build: true, log });
      const h = resolveHelm({ build: true, log });
      process.stdout.write(`${t.dir}\n${h.helm}\n`);
      return 0;
    }
    case 'with': {
      if (p.rest.length === 0) throw new HarnessError('Usage', `with needs a command after --\n${USAGE}`);
      // Signals are forwarded to CMD below; the control plane stops when CMD ends.
      const cp = await startControlPlane({ ...(p.dir ? { dir: p.dir } : {}), log, handleSignals: false });
      const [cmd, ...args] = p.rest as [string, ...string[]];
      const child = spawn(cmd, args, {
        stdio: 'inherit',
        env: { ...process.env, HERALD_TEST_KUBECONFIG: cp.kubeconfigPath, HERALD_TEST_CONTROL_PLANE_DIR: cp.dir },
      });
      const forward = (sig: NodeJS.Signals): void => {
        child.kill(sig);
      };
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      const code = await new Promise<number>((res) => child.on('exit', (c, s) => res(c ?? (s ? 128 : 1))));
      await cp.stop();
      return code;
    }
    default:
      throw new HarnessError('Usage', `unknown command ${p.command}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`control-plane: ${msg}\n`);
    process.exit(err instanceof HarnessError && err.code === 'Usage' ? 2 : 1);
  },
);
