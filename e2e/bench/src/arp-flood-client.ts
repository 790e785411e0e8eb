/**
 * The arp-flood bench's client: run inside the client namespace
 * (`node dist/arp-flood-client.js '<json options>'`), it sends broadcast ARP requests for one
 * IP at a fixed rate through an AF_PACKET socket, receives the replies on the same socket,
 * and prints one JSON line: counts and request-to-reply latencies (both stamped in this
 * process: send just before the send call, receive when the frame reaches JavaScript).
 */
import { openPacketSocket, ETHERTYPE_ARP, type BpfInstruction } from '@herald/native';
import { z } from 'zod';
import { ReplyMatcher, arpRequest, parseArpReply, setSlot } from './arp-flood-frames.js';
import { percentile } from './stats.js';

const Options = z.object({
  ifname: z.string().min(1),
  senderIp: z.string(),
  targetIp: z.string(),
  rate: z.number().int().positive(),
  seconds: z.number().positive(),
  slots: z.number().int().positive(),
  /** How long to keep receiving after the last request. */
  drainMs: z.number().int().nonnegative(),
});
export type FloodOptions = z.infer<typeof Options>;

/** At most this many requests per timer tick: after a stall the sender catches up gradually. */
const MAX_BURST = 200;
const TICK_MS = 1;

/** Kernel-side filter: ARP replies only (op at offset 20 == 2), so our own requests are not copied back. */
const REPLIES_ONLY: readonly BpfInstruction[] = [
  { code: 0x28, jt: 0, jf: 0, k: 20 }, // ldh [20]
  { code: 0x15, jt: 0, jf: 1, k: 2 }, // jeq #2
  { code: 0x06, jt: 0, jf: 0, k: 0x40000 }, // ret #262144
  { code: 0x06, jt: 0, jf: 0, k: 0 }, // ret #0
];

export interface FloodResult {
  sent: number;
  sendErrors: number;
  answered: number;
  unmatchedReplies: number;
  otherReplies: number;
  responders: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Log2 histogram of latencies: bucket upper bounds in ms and counts. */
  histogram: { upToMs: number; count: number }[];
  achievedRate: number;
  maxBehindMs: number;
}

/** Counts of latencies under power-of-two bounds from 1/64 ms: enough for a chart. */
export function log2Histogram(values: readonly number[]): { upToMs: number; count: number }[] {
  const out: { upToMs: number; count: number }[] = [];
  if (values.length === 0) return out;
  const max = Math.max(...values);
  for (let b = 1 / 64; ; b *= 2) {
    out.push({ upToMs: b, count: 0 });
    if (b >= max) break;
  }
  for (const v of values) {
    const i = out.findIndex((x) => v <= x.upToMs);
    const bin = out[i === -1 ? out.length - 1 : i];
    if (bin) bin.count++;
  }
  return out;
}

async function flood(o: FloodOptions): Promise<FloodResult> {
  const total = Math.round(o.rate * o.seconds);
  const m = new ReplyMatcher(total, o.slots);
  const sock = openPacketSocket({ ifname: o.ifname, ethertype: ETHERTYPE_ARP, filter: REPLIES_ONLY });
  const responders: Record<string, number> = {};
  let other = 0;
  sock.onFrame((f) => {
    const at = performance.now();
    const r = parseArpReply(f);
    if (r?.senderIp !== o.targetIp || r.slot === undefined) {
      other++;
      return;
    }
    responders[r.senderMac] = (responders[r.senderMac] ?? 0) + 1;
    m.reply(r.slot, at);
  });
  const frame = arpRequest(o.senderIp, o.targetIp, 0);
  let sendErrors = 0;
  let maxBehind = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * o.rate));
      const n = Math.min(MAX_BURST, due - m.sent);
      for (let k = 0; k < n; k++) {
        const slot = m.sent % o.slots;
        setSlot(frame, slot);
        const at = performance.now();
        try {
          sock.send(frame);
          m.sentOne(at);
        } catch {
          sendErrors++;
          m.sentOne(Number.POSITIVE_INFINITY);
        }
      }
      // How far the sender is behind its schedule (the frame it should be sending now).
      if (due > m.sent) maxBehind = Math.max(maxBehind, ((due - m.sent) / o.rate) * 1000);
      if (m.sent >= total) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, o.drainMs));
  sock.close();
  const lat = m.latencies();
  return {
    sent: m.sent,
    sendErrors,
    answered: m.answered,
    unmatchedReplies: m.unmatched,
    otherReplies: other,
    responders,
    latencyMs: {
      p50: percentile(lat, 50),
      p90: percentile(lat, 90),
      p99: percentile(lat, 99),
      max: lat.length === 0 ? Number.NaN : Math.max(...lat),
      mean: lat.length === 0 ? Number.NaN : lat.reduce((a, b) => a + b, 0) / lat.length,
    },
    histogram: log2Histogram(lat),
    achievedRate: m.sent / sendSeconds,
    maxBehindMs: maxBehind,
  };
}

async function main(): Promise<void> {
  const o = Options.parse(JSON.parse(process.argv[2] ?? '{}'));
  const r = await flood(o);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

// Run only as a script (the bench spawns it); importing it (tests) runs nothing.
if (process.argv[1]?.endsWith('arp-flood-client.js')) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`arp-flood-client: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
