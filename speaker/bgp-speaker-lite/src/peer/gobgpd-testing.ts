/**
 * A real gobgpd (the Debian `gobgpd` package) on loopback for this package's tests: one
 * neighbour, 127.0.0.1 (us), on free ports, queried through the `gobgp` CLI. Test support only:
 * not exported from the package entry.
 * @packageDocumentation
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const installed = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** Both the daemon and its CLI are on PATH (`.ci/install-debian-packages.sh` installs them). */
export const gobgpInstalled = installed('gobgpd') && installed('gobgp');

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface GobgpdOptions {
  readonly asn: number;
  /** Our AS, as gobgpd expects it. */
  readonly neighborAsn: number;
  /** TCP MD5 (`auth-password`). */
  readonly password?: string;
  /** gobgpd only accepts (default true: it never retries faster than every 5 s, so we dial). */
  readonly passive?: boolean;
  /** Where gobgpd dials us when not passive. */
  readonly remotePort?: number;
}

export interface Gobgpd {
  readonly bgpPort: number;
  /** `gobgp ARGS -j`, parsed. */
  cli(...args: string[]): Promise<unknown>;
  /** GoBGP's session state for its one neighbour (6 = Established). */
  state(): Promise<number | undefined>;
  /** Daemon output so far, for failure messages. */
  output(): string;
  /** Stops the daemon (SIGTERM, then SIGKILL after 3 s) and removes its folder. Safe twice. */
  stop(): Promise<void>;
}

/** Starts gobgpd and resolves once its API answers. */
export async function startGobgpd(o: GobgpdOptions): Promise<Gobgpd> {
  const dir = await mkdtemp(join(tmpdir(), 'hbgp-gobgpd'));
  const bgpPort = await freePort();
  const apiPort = await freePort();
  const conf = join(dir, 'gobgpd.toml');
  await writeFile(
    conf,
    [
      '[global.config]',
      `  as = ${o.asn}`,
      '  router-id = "10.255.0.1"',
      `  port = ${bgpPort}`,
      '  local-address-list = ["127.0.0.1"]',
      '[[neighbors]]',
      '  [neighbors.config]',
      '    neighbor-address = "127.0.0.1"',
      `    peer-as = ${o.neighborAsn}`,
      ...(o.password !== undefined ? [`    auth-password = "${o.password}"`] : []),
      '  [neighbors.transport.config]',
      `    passive-mode = ${o.passive ?? true}`,
      ...(o.remotePort !== undefined ? [`    remote-port = ${o.remotePort}`] : []),
      '  [neighbors.timers.config]',
      '    connect-retry = 1',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      '      afi-safi-name = "ipv4-unicast"',
      '',
    ].join('\n'),
  );
  let output = '';
  const child = spawn('gobgpd', ['-f', conf, '-t', 'toml', '--api-hosts', `127.0.0.1:${apiPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })());
  const cli = async (...args: string[]): Promise<unknown> => {
    const { stdout } = await run('gobgp', ['-u', '127.0.0.1', '-p', String(apiPort), ...args, '-j'], { timeout: 5_000 });
    return JSON.parse(stdout) as unknown;
  };
  const state = async (): Promise<number | undefined> => ((await cli('neighbor')) as Array<{ state?: { session_state?: number } }>)[0]?.state?.session_state;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await state()) !== undefined) break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`gobgpd API did not come up\n${output}`, { cause: err });
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { bgpPort, cli, state, output: () => output, stop };
}
