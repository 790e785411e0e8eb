/**
 * ARP as the client sees it: a tcpdump capture in the client namespace, parsed into
 * requests, replies and gratuitous ARPs with kernel timestamps, and the analysis that says
 * whether two nodes answered for one IP at the same time, and for how long.
 */
import { createInterface } from 'node:readline';
import type { Lab } from '@herald/lab';

export interface ArpEvent {
  /** Kernel capture time, epoch ms. */
  readonly at: number;
  /** `garp`: a request whose sender and target IP are equal (an RFC 5227 announcement). */
  readonly kind: 'request' | 'reply' | 'garp';
  /** The Ethernet source. */
  readonly src: string;
  /** The IP asked about, answered for or announced. */
  readonly ip: string;
  /** For a reply, the MAC it gives for `ip`; for a garp, the sender's MAC. */
  readonly mac?: string;
}

const MAC = '[0-9a-f]{2}(?::[0-9a-f]{2}){5}';
const LINE = new RegExp(`^(\\d+\\.\\d+) (${MAC}) > (${MAC}), .*?(?:Request who-has (\\S+)(?: \\(${MAC}\\))? tell (\\S+?),|Reply (\\S+) is-at (${MAC}))`, 'i');

/** One line of `tcpdump -n -e -l -tt` for an ARP frame, or undefined for anything else. */
export function parseArpLine(line: string): ArpEvent | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const at = Number(m[1]) * 1000;
  const src = (m[2] ?? '').toLowerCase();
  if (m[4] !== undefined) {
    const garp = m[4] === m[5];
    return garp ? { at, kind: 'garp', src, ip: m[4], mac: src } : { at, kind: 'request', src, ip: m[4] };
  }
  return { at, kind: 'reply', src, ip: m[6] ?? '', mac: (m[7] ?? '').toLowerCase() };
}

/** A running tcpdump; `stop` lets it flush what it captured. */
export interface Tcpdump {
  stop(): Promise<void>;
}

/**
 * Starts tcpdump on `host`'s eth0 (promiscuous, immediate mode, `-n -e -l -tt`), handing
 * each output line to `onLine`; resolves once it listens.
 */
export async function startTcpdump(lab: Pick<Lab, 'spawn'>, host: string, filter: string, onLine: (line: string) => void): Promise<Tcpdump> {
  const child = lab.spawn(host, 'tcpdump', ['-i', 'eth0', '-n', '-e', '-l', '-tt', '--immediate-mode', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onLine);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump in ${host} not listening after 10 s: ${err}`)), 10_000);
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump in ${host} exited (${code}): ${err}`));
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const closed = new Promise<void>((r) => child.once('close', () => r()));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await closed;
        clearTimeout(timer);
      })()),
  };
}

/** tcpdump in a lab host, collecting ARP events until stopped. */
export class ArpCapture {
  readonly events: ArpEvent[] = [];
  #dump: Tcpdump | undefined;

  static async start(lab: Pick<Lab, 'spawn'>, host: string, filter = 'arp'): Promise<ArpCapture> {
    const cap = new ArpCapture();
    cap.#dump = await startTcpdump(lab, host, filter, (l) => {
      const e = parseArpLine(l);
      if (e) cap.events.push(e);
    });
    return cap;
  }

  async stop(): Promise<readonly ArpEvent[]> {
    await this.#dump?.stop();
    return this.events;
  }
}

/** One node answering for an IP without a pause of `maxGapMs` or more: from its first to its last answer. */
export interface AnswerSpan {
  readonly mac: string;
  readonly start: number;
  readonly end: number;
}

/** Replies and gratuitous ARPs for `ip` as spans per MAC (answers less than `maxGapMs` apart join one span). */
export function answerSpans(events: readonly ArpEvent[], ip: string, maxGapMs: number): AnswerSpan[] {
  const byMac = new Map<string, number[]>();
  for (const e of events) {
    if (e.ip !== ip || e.mac === undefined || e.kind === 'request') continue;
    byMac.set(e.mac, [...(byMac.get(e.mac) ?? []), e.at]);
  }
  const spans: AnswerSpan[] = [];
  for (const [mac, times] of byMac) {
    times.sort((a, b) => a - b);
    let start = times[0] ?? 0;
    let end = start;
    for (const t of times.slice(1)) {
      if (t - end >= maxGapMs) {
        spans.push({ mac, start, end });
        start = t;
      }
      end = t;
    }
    spans.push({ mac, start, end });
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** A time two nodes both answered for the IP. */
export interface DoubleAnswer {
  readonly macs: readonly [string, string];
  readonly start: number;
  readonly ms: number;
}

export interface DoubleAnswerReport {
  /** Periods in which two nodes' answer spans overlap (both kept answering), longest first. */
  readonly overlaps: readonly DoubleAnswer[];
  readonly maxOverlapMs: number;
  /** Requests from `prober` that got replies from two or more MACs. */
  readonly doubleAnsweredRequests: number;
  /** Requests from `prober`, and how many got any reply. */
  readonly requests: number;
  readonly answeredRequests: number;
}

/**
 * Whether two nodes answered ARP for `ip` at once. Each node's replies and gratuitous ARPs
 * form spans (a pause of `maxGapMs` ends one); the overlap of two nodes' spans is how long
 * both kept answering. A clean handover (one stops, the other starts) overlaps 0 ms. Replies
 * are also matched to the `prober`'s requests (each reply belongs to the last request before
 * it), counting requests that two nodes answered.
 */
export function doubleAnswers(events: readonly ArpEvent[], ip: string, prober: string, maxGapMs: number): DoubleAnswerReport {
  const spans = answerSpans(events, ip, maxGapMs);
  const overlaps: DoubleAnswer[] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i];
      const b = spans[j];
      if (!a || !b || a.mac === b.mac) continue;
      const start = Math.max(a.start, b.start);
      const end = Math.min(a.end, b.end);
      if (end > start) overlaps.push({ macs: [a.mac, b.mac], start, ms: end - start });
    }
  }
  overlaps.sort((x, y) => y.ms - x.ms);
  let requests = 0;
  let answered = 0;
  let doubles = 0;
  let current: Set<string> | undefined;
  const close = (): void => {
    if (current === undefined) return;
    if (current.size > 0) answered++;
    if (current.size > 1) doubles++;
  };
  for (const e of [...events].sort((x, y) => x.at - y.at)) {
    if (e.ip !== ip) continue;
    if (e.kind === 'request' && e.src === prober) {
      close();
      requests++;
      current = new Set();
    } else if (e.kind === 'reply' && e.mac !== undefined) {
      current?.add(e.mac);
    }
  }
  close();
  return { overlaps, maxOverlapMs: overlaps[0]?.ms ?? 0, doubleAnsweredRequests: doubles, requests, answeredRequests: answered };
}
