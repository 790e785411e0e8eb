/**
 * The BGP benchmark's I/O: cheap queries on the routers' own control sockets (FRR's vty
 * sockets and BIRD's control socket are files, reachable from the root namespace), the GoBGP
 * CLI, a tcpdump capture read as pcap, and the announcing process (bgp-sender.js) in a node.
 */
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab } from '@herald/lab';
import { BgpStreamReader, PcapReader, birdReply, frrVtyReply, tcpOfFrame, type WireMessage } from './bgp-parse.js';
import type { SenderConfig } from './bgp-sender.js';

const SENDER = fileURLToPath(new URL('./bgp-sender.js', import.meta.url));
const GOBGP_POLLER = fileURLToPath(new URL('./bgp-gobgp-poller.js', import.meta.url));

/** gobgpd's gRPC port in the lab's GoBGP router (and in ours): each on its namespace's loopback. */
export const GOBGP_API_PORT = 50051;

/**
 * One command on an FRR daemon's vty socket (`DIR/bgpd.vty`, `DIR/bfdd.vty`), the way vtysh
 * sends it: `enable` first (a vty starts in view mode, and bfdd installs its show commands in
 * enable mode only), then the command, each ended by a NUL; about 1 ms, against 45-95 ms for
 * a vtysh process.
 */
export function frrVty(socket: string, command: string, timeoutMs = 10_000): Promise<{ text: string; status: number }> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let chunks: Buffer[] = [];
    let enabled = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`${socket}: no answer to ${JSON.stringify(command)} in ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('connect', () => s.write('enable\0'));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      const r = frrVtyReply(Buffer.concat(chunks));
      if (r === undefined) return;
      if (!enabled) {
        enabled = true;
        chunks = [];
        s.write(`${command}\0`);
        return;
      }
      clearTimeout(timer);
      s.end();
      resolve(r);
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${socket}: ${command}: ${err.message}`, { cause: err }));
    });
  });
}

/** One command on BIRD's control socket (what birdc does): greeting line, command, reply. */
export function birdCommand(socket: string, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let buf = '';
    let greeted = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`${socket}: no answer to ${JSON.stringify(command)} in ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (!greeted) {
        const i = buf.indexOf('\n');
        if (i === -1) return;
        greeted = true;
        buf = buf.slice(i + 1);
        s.write(`${command}\n`);
        return;
      }
      const r = birdReply(buf);
      if (r === undefined) return;
      clearTimeout(timer);
      s.end();
      resolve(r);
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${socket}: ${command}: ${err.message}`, { cause: err }));
    });
  });
}

/** The `gobgp` CLI against the gobgpd in `host` (a process per call: about 30-150 ms here). */
export async function gobgpCli(lab: Lab, host: string, args: readonly string[]): Promise<string> {
  const r = await lab.exec(host, 'gobgp', ['-u', '127.0.0.1', '-p', String(GOBGP_API_PORT), ...args], { timeoutMs: 15_000 });
  if (r.status !== 0) throw new Error(`gobgp ${args.join(' ')} in ${host}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** bgp-gobgp-poller.js in a GoBGP router's namespace: Adj-RIB-In counts over gRPC, about 1 ms each. */
export class GobgpPoller {
  private readonly pending = new Map<number, (r: { accepted?: number; error?: string }) => void>();
  private nextId = 1;
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout ?? process.stdin }).on('line', (l) => {
      const r = JSON.parse(l) as { id: number; accepted?: number; error?: string };
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    });
    child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-2_000);
    });
    child.stdin?.on('error', () => undefined);
    child.once('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p({ error: `poller exited: ${this.stderr.trim()}` });
      this.pending.clear();
    });
  }

  static start(lab: Lab, host: string): GobgpPoller {
    return new GobgpPoller(lab.spawn(host, process.execPath, [GOBGP_POLLER, String(GOBGP_API_PORT)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Prefixes accepted from `neighbor`; an error (no such session yet) reads as none. */
  async accepted(neighbor: string): Promise<{ prefixes: number; error?: string }> {
    if (this.exited) throw new Error(`GoBGP poller has exited: ${this.stderr.trim()}`);
    const id = this.nextId++;
    const r = await new Promise<{ accepted?: number; error?: string }>((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin?.write(JSON.stringify({ id, neighbor }) + '\n');
    });
    return r.error === undefined ? { prefixes: r.accepted ?? 0 } : { prefixes: 0, error: r.error };
  }

  close(): void {
    this.child.stdin?.end();
  }
}

// ---- packet capture -------------------------------------------------------------------------

/**
 * tcpdump on a host's eth0 writing pcap to stdout (it drops to the tcpdump user before opening
 * a file), read as it comes: every BGP message with its kernel capture time.
 */
export class BgpCapture {
  readonly messages: WireMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly reader = new BgpStreamReader();
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {}

  static async start(lab: Lab, host: string, filter = 'tcp port 179'): Promise<BgpCapture> {
    const args = ['-i', 'eth0', '-n', '-s', '0', '-U', '--immediate-mode', '-w', '-', filter];
    const child = lab.spawn(host, 'tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const cap = new BgpCapture(child);
    const pcap = new PcapReader();
    child.stdout?.on('data', (chunk: Buffer) => {
      let added = false;
      for (const p of pcap.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        const seg = tcpOfFrame(p.data, pcap.linkType);
        if (seg === undefined) continue;
        for (const m of cap.reader.push(p.at, seg)) {
          cap.messages.push(m);
          added = true;
        }
      }
      if (added) for (const w of [...cap.waiters]) w();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump in ${host} not listening after 10 s: ${cap.stderr}`)), 10_000);
      child.stderr?.on('data', (b: Buffer) => {
        cap.stderr = (cap.stderr + b.toString()).slice(-4_000);
        if (cap.stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump in ${host} exited (${code}): ${cap.stderr}`));
      });
    });
    return cap;
  }

  /** Octets the stream reader had to skip (capture gaps); 0 when every message was read. */
  get skipped(): number {
    return this.reader.skipped;
  }

  /** The first message `pred` accepts, waiting for it up to `timeoutMs`; undefined if none came. */
  waitFor(pred: (m: WireMessage) => boolean, timeoutMs: number): Promise<WireMessage | undefined> {
    const hit = this.messages.find(pred);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve) => {
      let from = this.messages.length;
      const check = (): void => {
        for (; from < this.messages.length; from++) {
          const m = this.messages[from];
          if (m !== undefined && pred(m)) return done(m);
        }
      };
      const done = (m: WireMessage | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(m);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Drops what was captured so far (between phases). */
  clear(): void {
    this.messages.length = 0;
  }

  /** Stops tcpdump; returns the packets it says the kernel dropped. */
  async stop(): Promise<number | undefined> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    }
    const m = /(\d+) packets? dropped by kernel/.exec(this.stderr);
    return m ? Number(m[1]) : undefined;
  }
}

// ---- the announcing process -------------------------------------------------------------------

interface SenderEvent {
  readonly event: string;
  readonly at: number;
  readonly id?: number;
  readonly peer?: string;
  readonly counters?: Record<string, { updatesSent: number; prefixesAdvertised: number }>;
}

/** bgp-sender.js in a node's namespace, driven over its stdin. */
export class Sender {
  readonly events: SenderEvent[] = [];
  private readonly acks = new Map<number, (e: SenderEvent) => void>();
  private nextId = 1;
  private stderr = '';
  private readonly exit: Promise<void>;
  private exited = false;

  private constructor(
    readonly host: string,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout ?? process.stdin }).on('line', (l) => {
      let e: SenderEvent;
      try {
        e = JSON.parse(l) as SenderEvent;
      } catch {
        this.stderr += `unparsed: ${l}\n`;
        return;
      }
      this.events.push(e);
      if (e.event === 'ack' && e.id !== undefined) this.acks.get(e.id)?.(e);
    });
    child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4_000);
    });
    child.stdin?.on('error', () => undefined);
    this.exit = new Promise((r) =>
      child.once('exit', () => {
        this.exited = true;
        r();
      }),
    );
  }

  static async start(lab: Lab, host: string, config: SenderConfig): Promise<Sender> {
    const child = lab.spawn(host, process.execPath, [SENDER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const s = new Sender(host, child);
    const deadline = Date.now() + 20_000;
    while (!s.events.some((e) => e.event === 'ready')) {
      if (s.exited || Date.now() > deadline) throw new Error(`bgp-sender in ${host} not ready: ${s.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return s;
  }

  /** Sends a command; resolves with its acknowledgement (which carries every peer's counters). */
  command(op: 'start' | 'stop' | 'counters', peers?: readonly string[]): Promise<SenderEvent> {
    if (this.exited) return Promise.reject(new Error(`bgp-sender in ${this.host} has exited: ${this.stderr.trim()}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bgp-sender in ${this.host}: no ack for ${op} in 10 s: ${this.stderr.trim()}`)), 10_000);
      this.acks.set(id, (e) => {
        clearTimeout(timer);
        this.acks.delete(id);
        resolve(e);
      });
      this.child.stdin?.write(JSON.stringify({ op, id, ...(peers === undefined ? {} : { peers }) }) + '\n');
    });
  }

  /** Closes stdin (Cease to every peer, then exit) and waits, SIGKILL after 3 s. */
  async close(): Promise<void> {
    if (!this.exited) this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exit;
    clearTimeout(timer);
  }
}
