#!/usr/bin/env node
/**
 * Entry point run with `ip netns exec` by {@link startPinger}:
 * `pinger.js --ip IP [--port 80] [--interval-ms 10] [--timeout-ms 100]`.
 * Every interval it starts one HTTP GET of `http://IP:PORT/` on a fresh connection and,
 * when that settles, prints one JSON line `{"seq","t","ok","node","ms","code"}` (`t`: epoch
 * ms when the probe started; `node`: the responder's body, which names the host that
 * answered). Probes overlap: a slow one does not delay the next, so a timeout longer than
 * the interval does not lower the rate. SIGTERM, SIGINT or a closed stdin stop it: no new
 * probe starts, the ones in flight are reported, then it exits 0.
 *
 * The loop is exported for unit tests; the process only starts when this file is run.
 */
import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parsePort } from './forward.js';
import { httpGet } from './http.js';

/** One probe's outcome, as printed. */
export interface Ping {
  /** 0, 1, 2, ... in start order; lines may arrive out of order when probes overlap. */
  readonly seq: number;
  /** Epoch milliseconds when the probe started. */
  readonly t: number;
  /** A 2xx response arrived within the timeout. */
  readonly ok: boolean;
  /** The body of a successful response, trimmed (the responder's host name); null otherwise. */
  readonly node: string | null;
  /** Duration of the probe: round trip on success, time to failure otherwise. */
  readonly ms: number;
  /** `OK`, `TIMEOUT`, `ECONNREFUSED`, `ECONNRESET`, `EHOSTUNREACH`, ... */
  readonly code: string;
}

export interface PingerArgs {
  readonly ip: string;
  readonly port: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

const USAGE = 'usage: pinger.js --ip IP [--port 80] [--interval-ms 10] [--timeout-ms 100]';

function positiveInt(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !/^\d{1,7}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= max ? n : undefined;
}

/** Parses the command line; an address, never a name (a name would go to a resolver). */
export function parsePingerArgs(argv: readonly string[]): PingerArgs | { error: string } {
  let ip: string | undefined;
  let port = 80;
  let intervalMs = 10;
  let timeoutMs = 100;
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    const bad = (): { error: string } => ({ error: `bad ${flag} ${JSON.stringify(value ?? '')}; ${USAGE}` });
    if (flag === '--ip') {
      if (value === undefined || isIP(value) === 0 || value.includes('%')) return bad();
      ip = value;
    } else if (flag === '--port') {
      const p = parsePort(value);
      if (p === undefined) return bad();
      port = p;
    } else if (flag === '--interval-ms') {
      const n = positiveInt(value, 60_000);
      if (n === undefined) return bad();
      intervalMs = n;
    } else if (flag === '--timeout-ms') {
      const n = positiveInt(value, 600_000);
      if (n === undefined) return bad();
      timeoutMs = n;
    } else {
      return { error: `unknown argument ${JSON.stringify(flag)}; ${USAGE}` };
    }
  }
  if (ip === undefined) return { error: USAGE };
  return { ip, port, intervalMs, timeoutMs };
}

/** A running probe loop. */
export interface Pinging {
  /** Starts no more probes; resolves once every probe in flight has been reported. */
  stop(): Promise<void>;
}

/**
 * Starts a probe every `intervalMs` on a fixed grid (so timer lateness does not add up),
 * each one independent of the others, and calls `onPing` as each settles. If the event
 * loop was held up for longer than an interval, the grid restarts from now rather than
 * firing the missed probes in a burst.
 */
export function startPinging(args: PingerArgs, onPing: (p: Ping) => void): Pinging {
  const inFlight = new Set<Promise<void>>();
  let seq = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let due = performance.now();

  const fire = (): void => {
    if (stopped) return;
    const s = seq++;
    const t = Date.now();
    const probe = httpGet(args.ip, args.port, args.timeoutMs).then((r) => {
      const body = r.ok ? r.body?.trim() : undefined;
      onPing({ seq: s, t, ok: r.ok, node: body === undefined || body === '' ? null : body, ms: r.ms, code: r.code });
    });
    inFlight.add(probe);
    void probe.finally(() => inFlight.delete(probe));
    due += args.intervalMs;
    const now = performance.now();
    if (due < now) due = now;
    timer = setTimeout(fire, due - now);
  };
  fire();

  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function main(): void {
  const args = parsePingerArgs(process.argv.slice(2));
  if ('error' in args) {
    process.stderr.write(`${args.error}\n`);
    process.exit(2);
  }
  // A parent that went away closes the pipe: nothing left to report to.
  process.stdout.on('error', () => process.exit(0));
  const pinging = startPinging(args, (p) => {
    process.stdout.write(`${JSON.stringify(p)}\n`);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void pinging.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
