import { describe, expect, it } from '@jest/globals';
import { parseProcStatCpu, parseProcStatus, sampleProc, summariseWindow } from './proc.js';

describe('/proc parsing', () => {
  it('reads VmRSS and VmHWM in MiB', () => {
    const text = 'Name:\tnode\nVmPeak:\t 1000000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t  102400 kB\n';
    expect(parseProcStatus(text)).toEqual({ rssMiB: 100, hwmMiB: 150 });
    expect(parseProcStatus('Name:\tx\n').rssMiB).toBeNaN();
  });

  it('reads utime + stime after a command name holding spaces and parentheses', () => {
    const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 123 456 789';
    expect(parseProcStatCpu(stat)).toBe(3);
  });

  it('samples this process', () => {
    const s = sampleProc(process.pid);
    expect(s.rssMiB).toBeGreaterThan(1);
    expect(s.hwmMiB).toBeGreaterThanOrEqual(s.rssMiB);
    expect(s.cpuSeconds).toBeGreaterThan(0);
  });

  it('summarises a window: CPU used over wall time, mean and peak RSS', () => {
    const w = summariseWindow([
      { at: 0, s: { rssMiB: 100, hwmMiB: 110, cpuSeconds: 1 } },
      { at: 1000, s: { rssMiB: 120, hwmMiB: 120, cpuSeconds: 1.2 } },
      { at: 2000, s: { rssMiB: 110, hwmMiB: 125, cpuSeconds: 1.5 } },
    ]);
    expect(w).toMatchObject({ seconds: 2, rssMiBAvg: 110, rssMiBMax: 120, rssMiBEnd: 110, hwmMiB: 125 });
    expect(w.cpuSeconds).toBeCloseTo(0.5);
    expect(w.cpuPercent).toBeCloseTo(25);
    expect(() => summariseWindow([])).toThrow('no samples');
  });
});
