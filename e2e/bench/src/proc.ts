/**
 * A process's memory and CPU as the kernel reports them in /proc: the parsers are pure,
 * {@link sampleProc} is the I/O edge. Used by the speaker-load and arp-flood benches.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/PID/stat (100 on every Linux Node runs on). */
const CLOCK_TICKS = 100;

export interface ProcSample {
  /** Resident set now, MiB (VmRSS). */
  readonly rssMiB: number;
  /** Peak resident set since the process started, MiB (VmHWM). */
  readonly hwmMiB: number;
  /** User + system CPU seconds used so far. */
  readonly cpuSeconds: number;
}

/** VmRSS and VmHWM of a /proc/PID/status text, in MiB (NaN when absent). */
export function parseProcStatus(text: string): { rssMiB: number; hwmMiB: number } {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  };
  return { rssMiB: kb('VmRSS'), hwmMiB: kb('VmHWM') };
}

/**
 * utime + stime of a /proc/PID/stat line, in seconds. The command name (field 2) may hold
 * spaces and parentheses, so fields are counted from the last `)`: state is field 3.
 */
export function parseProcStatCpu(text: string): number {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of proc(5): 11 and 12 after the state.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export function sampleProc(pid: number): ProcSample {
  const { rssMiB, hwmMiB } = parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { rssMiB, hwmMiB, cpuSeconds: parseProcStatCpu(readFileSync(`/proc/${pid}/stat`, 'utf8')) };
}

/** What a process did over a window: CPU used, RSS seen (sampled), peak RSS at the end. */
export interface ProcWindow {
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** CPU seconds per wall second, in percent of one core. */
  readonly cpuPercent: number;
  readonly rssMiBAvg: number;
  readonly rssMiBMax: number;
  readonly rssMiBEnd: number;
  readonly hwmMiB: number;
}

/** Summarises samples taken at the start, during and at the end of a window. */
export function summariseWindow(samples: readonly { at: number; s: ProcSample }[]): ProcWindow {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) throw new Error('no samples in the window');
  const seconds = (last.at - first.at) / 1000;
  const cpu = last.s.cpuSeconds - first.s.cpuSeconds;
  const rss = samples.map((x) => x.s.rssMiB);
  return {
    seconds,
    cpuSeconds: cpu,
    cpuPercent: seconds > 0 ? (100 * cpu) / seconds : Number.NaN,
    rssMiBAvg: rss.reduce((a, b) => a + b, 0) / rss.length,
    rssMiBMax: Math.max(...rss),
    rssMiBEnd: last.s.rssMiB,
    hwmMiB: last.s.hwmMiB,
  };
}

/** Samples `pids` every `everyMs` until `until` resolves; one summary per pid. */
export async function watchProcs(pids: readonly number[], everyMs: number, until: Promise<unknown>): Promise<ProcWindow[]> {
  const samples = pids.map(() => [] as { at: number; s: ProcSample }[]);
  const take = (): void => {
    const at = performance.now();
    pids.forEach((pid, i) => samples[i]?.push({ at, s: sampleProc(pid) }));
  };
  take();
  const timer = setInterval(take, everyMs);
  try {
    await until;
  } finally {
    clearInterval(timer);
  }
  take();
  return samples.map(summariseWindow);
}
