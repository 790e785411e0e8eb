import type { ChildProcess } from 'node:child_process';
import { LabError } from '../errors.js';
import { distScript, type Lab } from '../lab.js';
import { bgpNodeConfig, bgpNodeEvent, type BgpNodeConfig, type BgpNodeEvent, type LabRoute } from './bgp-node-protocol.js';
import { waitFor } from './poll.js';

/** A bgp-speaker-lite stand-in for Herald's speaker, running in a lab node (see `bgp-node.ts`). */
export interface BgpNode {
  readonly host: string;
  /** Everything the script reported, in order. */
  readonly events: readonly BgpNodeEvent[];
  /** The session state (RFC 4271 names) of each peer as last reported. */
  state(peer: string): string;
  /** Replaces the Adj-RIB-Out of the given peers (all when omitted); resolves once applied. */
  setRoutes(routes: readonly LabRoute[], peers?: readonly string[]): Promise<void>;
  /** ManualStop (Cease) of the given peers; they stay Idle until {@link BgpNode.start}. */
  stop(peers?: readonly string[]): Promise<void>;
  start(peers?: readonly string[]): Promise<void>;
  /** Resolves once each given peer (all when omitted) is Established. */
  waitEstablished(peers?: readonly string[], timeoutMs?: number): Promise<void>;
  /** Closes the script's stdin (it sends Cease to every peer and exits) and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * Starts `dist/routers/bgp-node.js` in `host`'s namespace with `node`. Its piped stdin is its
 * lifeline, and the lab kills it on `destroy` in any case.
 */
export async function startBgpNode(lab: Lab, host: string, config: BgpNodeConfig): Promise<BgpNode> {
  const parsed = bgpNodeConfig.parse(config);
  const child = lab.spawn(host, process.execPath, [distScript('routers/bgp-node.js'), JSON.stringify(parsed)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const node = new BgpNodeImpl(host, child, parsed.peers.map((p) => p.name));
  await node.ready();
  return node;
}

class BgpNodeImpl implements BgpNode {
  readonly events: BgpNodeEvent[] = [];
  private readonly states = new Map<string, string>();
  private readonly waiters = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderr = '';
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(
    readonly host: string,
    private readonly child: ChildProcess,
    private readonly peers: readonly string[],
  ) {
    for (const p of peers) this.states.set(p, 'Idle');
    let buffered = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) this.onLine(l);
    });
    child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('utf8')).slice(-4_000);
    });
    child.stdin?.on('error', () => undefined);
    this.exit = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        for (const w of this.waiters.values()) w.reject(new LabError('CommandFailed', `bgp-node in ${host} exited: ${this.stderr.trim()}`));
        this.waiters.clear();
        resolve();
      });
    });
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    const r = bgpNodeEvent.safeParse(safeJson(line));
    if (!r.success) {
      this.stderr = (this.stderr + `unparsed stdout: ${line}\n`).slice(-4_000);
      return;
    }
    const e = r.data;
    this.events.push(e);
    if (e.event === 'state') this.states.set(e.peer, e.to);
    if ((e.event === 'ack' || e.event === 'error') && e.id !== undefined) {
      const w = this.waiters.get(e.id);
      this.waiters.delete(e.id);
      if (e.event === 'ack') w?.resolve();
      else w?.reject(new LabError('CommandFailed', `bgp-node in ${this.host}: ${e.message}`));
    }
  }

  async ready(): Promise<void> {
    await waitFor(`bgp-node in ${this.host} ready`, async () => {
      if (this.exited) throw new LabError('CommandFailed', `bgp-node in ${this.host} exited before ready: ${this.stderr.trim()}`);
      return this.events.some((e) => e.event === 'ready') ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50, failFast: true });
  }

  state(peer: string): string {
    const s = this.states.get(peer);
    if (s === undefined) throw new LabError('BadOptions', `bgp-node in ${this.host} has no peer ${peer}`);
    return s;
  }

  private send(cmd: Record<string, unknown>): Promise<void> {
    if (this.exited) return Promise.reject(new LabError('CommandFailed', `bgp-node in ${this.host} has exited: ${this.stderr.trim()}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      this.child.stdin?.write(JSON.stringify({ ...cmd, id }) + '\n');
    });
  }

  setRoutes(routes: readonly LabRoute[], peers?: readonly string[]): Promise<void> {
    return this.send({ op: 'setRoutes', routes, ...(peers === undefined ? {} : { peers }) });
  }

  stop(peers?: readonly string[]): Promise<void> {
    return this.send({ op: 'stop', ...(peers === undefined ? {} : { peers }) });
  }

  start(peers?: readonly string[]): Promise<void> {
    return this.send({ op: 'start', ...(peers === undefined ? {} : { peers }) });
  }

  async waitEstablished(peers: readonly string[] = this.peers, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${this.host}: sessions ${peers.join(', ')} Established`,
      async () => {
        if (this.exited) throw new LabError('CommandFailed', `bgp-node in ${this.host} exited: ${this.stderr.trim()}`);
        return peers.every((p) => this.state(p) === 'Established') ? true : undefined;
      },
      { timeoutMs, intervalMs: 50, failFast: true, detail: () => peers.map((p) => `${p}=${this.states.get(p) ?? '?'}`).join(' ') },
    );
  }

  async close(): Promise<void> {
    if (!this.exited) this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exit;
    clearTimeout(timer);
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
