import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { LabError } from './errors.js';
import { distScript, type Lab } from './lab.js';

/** Options of {@link forwardApiServer}. */
export interface ApiForwardOptions {
  /** Kubeconfig to copy once per host (its server URL works unchanged inside them). */
  kubeconfigPath?: string;
  /** Hosts to forward into (default: the lab's nodes). */
  hosts?: readonly string[];
  /** How long each forwarder may take to listen (default 5 s). */
  readyTimeoutMs?: number;
}

/** The API server, reachable from inside the lab's hosts. */
export interface ApiForward {
  /** The Unix socket in the lab's folder that the in-namespace forwarders connect to. */
  readonly socketPath: string;
  /** The port, the same inside every host's 127.0.0.1 as the API server's in the root namespace. */
  readonly port: number;
  /** Host name -> kubeconfig copy (only with `kubeconfigPath`). */
  readonly kubeconfigs: Readonly<Record<string, string>>;
  /** The host's kubeconfig, or `LabError('UnknownHost')`. */
  kubeconfig(host: string): string;
}

const kubeconfigShape = z.looseObject({
  'current-context': z.string().optional(),
  contexts: z.array(z.looseObject({ name: z.string(), context: z.looseObject({ cluster: z.string() }) })).optional(),
  clusters: z.array(z.looseObject({ name: z.string(), cluster: z.looseObject({ server: z.string() }) })).min(1),
});

/** The API server URL of a kubeconfig's current context (or its only cluster). */
export function kubeconfigServer(path: string): string {
  let kc: z.infer<typeof kubeconfigShape>;
  try {
    kc = kubeconfigShape.parse(parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new LabError('BadOptions', `${path}: not a kubeconfig with a cluster`, { cause: err });
  }
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context']);
  const cluster = (ctx && kc.clusters.find((c) => c.name === ctx.context.cluster)) ?? kc.clusters[0];
  if (!cluster) throw new LabError('BadOptions', `${path}: no cluster`);
  return cluster.cluster.server;
}

/** Host and port of a loopback `https://127.0.0.1:PORT` URL, the only kind that can be forwarded this way. */
export function loopbackTarget(server: string): { host: '127.0.0.1' | '::1'; port: number } {
  let url: URL;
  try {
    url = new URL(server);
  } catch (err) {
    throw new LabError('BadOptions', `server ${JSON.stringify(server)} is not a URL`, { cause: err });
  }
  const host = url.hostname === '127.0.0.1' || url.hostname === 'localhost' ? '127.0.0.1' : url.hostname === '[::1]' ? '::1' : undefined;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (!host) throw new LabError('BadOptions', `server ${server}: only a loopback API server (127.0.0.1, ::1, localhost) can be forwarded`);
  return { host, port };
}

/** Waits for the forwarder's "ready" line; fails with its stderr if it exits or stays silent. */
function waitReady(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const finish = (e?: LabError): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    };
    const onOut = (b: Buffer): void => {
      out += b.toString('utf8');
      if (out.includes('ready\n')) finish();
    };
    const onExit = (code: number | null, signal: string | null): void => finish(new LabError('ForwarderFailed', `${what}: exited (${code ?? signal}) before listening: ${err.trim()}`));
    const timer = setTimeout(() => finish(new LabError('ForwarderFailed', `${what}: not listening after ${timeoutMs} ms: ${err.trim()}`)), timeoutMs);
    child.stderr?.on('data', (b: Buffer) => {
      // Keep draining stderr for the forwarder's whole life (a full pipe would stall it); keep the tail for messages.
      err = (err + b.toString('utf8')).slice(-2_000);
    });
    child.stdout?.on('data', onOut);
    child.on('exit', onExit);
  });
}

/** Lets a forwarder neither keep this process alive nor block on a full pipe. */
function background(child: ChildProcess): void {
  child.stdout?.resume();
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
  (child.stdin as { unref?: () => void } | null)?.unref?.();
}

/**
 * Makes a loopback API server reachable at the same `127.0.0.1:PORT` inside the
 * lab's hosts (lab notes, "Reaching the API server from inside a namespace"): a
 * forwarder in the root namespace listens on a Unix socket in the lab's folder and
 * dials the API server; one forwarder per host, started with `ip netns exec`,
 * listens on that namespace's loopback and dials the Unix socket. The serving
 * certificate already names 127.0.0.1, so TLS verifies unchanged. The forwarders
 * belong to the lab: `lab.destroy()` stops them.
 */
export async function forwardApiServer(lab: Lab, server: string, opts: ApiForwardOptions = {}): Promise<ApiForward> {
  const target = loopbackTarget(server);
  const hosts = opts.hosts ?? lab.nodes;
  for (const h of hosts) lab.host(h);
  const timeoutMs = opts.readyTimeoutMs ?? 5_000;
  const socketPath = join(lab.dir, `apiserver-${target.port}.sock`);
  const script = distScript('forwarder.js');

  const root = spawn(process.execPath, [script, 'unix-to-tcp', socketPath, target.host, String(target.port)], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  lab.adopt(root);
  await waitReady(root, `forwarder ${socketPath} -> ${target.host}:${target.port}`, timeoutMs);
  background(root);

  const kubeconfigs: Record<string, string> = {};
  await Promise.all(
    hosts.map(async (h) => {
      const child = lab.spawn(h, process.execPath, [script, 'tcp-to-unix', target.host, String(target.port), socketPath], { stdio: ['pipe', 'pipe', 'pipe'] });
      await waitReady(child, `forwarder in ${lab.host(h).ns} ${target.host}:${target.port} -> ${socketPath}`, timeoutMs);
      background(child);
      if (opts.kubeconfigPath !== undefined) {
        const copy = join(lab.dir, `kubeconfig-${h}`);
        copyFileSync(opts.kubeconfigPath, copy);
        kubeconfigs[h] = copy;
      }
    }),
  );
  return {
    socketPath,
    port: target.port,
    kubeconfigs: Object.freeze(kubeconfigs),
    kubeconfig(host: string): string {
      const p = kubeconfigs[host];
      if (p === undefined) throw new LabError('UnknownHost', `no kubeconfig for ${host}: forwarded into ${Object.keys(kubeconfigs).join(', ') || 'none (no kubeconfigPath given)'}`);
      return p;
    },
  };
}
