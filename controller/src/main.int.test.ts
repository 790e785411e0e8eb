import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { testKubeconfigPath } from '@herald/e2e-harness';
import { TestCluster, eventually } from './testkit/kube.js';

/** The controller binary, started as users start it. */

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('herald controller binary', () => {
  it.each([
    [[], '--namespace (or HERALD_NAMESPACE): is required'],
    [['--namespace', 'x', '--log-level', 'loud'], '--log-level: expected one of'],
    [['--namespace', 'x', '--metrics-addr', 'nope'], '--metrics-addr: expected HOST:PORT'],
    [['--namespace', 'x', '--bogus'], 'unknown flag --bogus'],
  ])('exits 2 with a one-line reason for %j', (args, reason) => {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect(r.status).toBe(2);
    const first = r.stderr.split('\n')[0] ?? '';
    expect(first).toContain(reason);
    expect(first.startsWith('herald-controller: ')).toBe(true);
  });

  describe('running', () => {
    let c: TestCluster;
    beforeAll(async () => {
      c = await TestCluster.create('main');
      await c.pool('p', { addresses: ['10.23.0.0/28'] });
    });
    afterAll(async () => {
      await c.cleanup();
    });

    it('serves /readyz and /metrics, assigns IPs, and exits 0 on SIGTERM', async () => {
      const child = spawn(process.execPath, [MAIN, '--kubeconfig', testKubeconfigPath(), '--lb-class', c.lbClass, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0'], {
        env: { PATH: process.env['PATH'] ?? '', HERALD_NAMESPACE: c.ns, HERALD_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // 'close': exited and its output read to the end.
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const logs: Record<string, unknown>[] = [];
      createInterface({ input: child.stdout }).on('line', (l) => {
        try {
          logs.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          logs.push({ raw: l });
        }
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      try {
        const start = await eventually('starting log line', async () => logs.find((l) => l['event'] === 'starting'));
        const health = `http://127.0.0.1:${String(start['healthPort'])}`;
        const metrics = `http://127.0.0.1:${String(start['metricsPort'])}`;
        expect((await fetch(`${health}/healthz`)).status).toBe(200);
        await eventually('ready', async () => (await fetch(`${health}/readyz`)).status === 200);
        await c.service('web');
        await c.waitIPs('web', ['10.23.0.0']);
        const text = await eventually('allocation metric', async () => {
          const t = await (await fetch(`${metrics}/metrics`)).text();
          return t.includes('herald_allocations_total{action="Allocated"} 1') ? t : undefined;
        });
        expect(text).toContain('herald_pool_addresses_in_use{pool="p",family="ipv4"}');
        expect(text).toContain('herald_reconcile_duration_seconds_bucket');
        // Every log line is JSON with stable keys; an allocation is logged with its reason fields.
        // (Log lines are written in batches, at most 50 ms late.)
        expect(await eventually('allocation log line', async () => logs.find((l) => l['event'] === 'ipAllocated'))).toMatchObject({ service: `${c.ns}/web`, pool: 'p', action: 'Allocated' });
        expect(logs.filter((l) => 'raw' in l)).toEqual([]);
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(stderr).toBe('');
        // The last lines, logged while exiting, were flushed on exit.
        expect(logs.find((l) => l['event'] === 'stopping')).toMatchObject({ signal: 'SIGTERM' });
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});
