import { describe, expect, it } from '@jest/globals';
import { ApiException, KubeConfig, type EventsV1Event } from '@kubernetes/client-node';
import { FakeClock } from '../core/clock.js';
import { memoryLogger, silentLogger } from '../core/log.js';
import { BUSY_RECHECK_MS, EventRecorder, type EventRecorderOptions, type EventSubject } from './events.js';

const svc: EventSubject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', uid: 'uid-1' } };

function setup(extra: Partial<EventRecorderOptions> = {}): {
  clock: FakeClock;
  rec: EventRecorder;
  created: EventsV1Event[];
  fail: { err?: unknown; hang?: boolean };
} {
  const clock = new FakeClock();
  const created: EventsV1Event[] = [];
  const fail: { err?: unknown; hang?: boolean } = {};
  const rec = new EventRecorder({
    kc: new KubeConfig(),
    api: {
      createNamespacedEvent: async ({ namespace, body }) => {
        await Promise.resolve();
        if (fail.hang) await new Promise<never>(() => undefined);
        if (fail.err !== undefined) throw fail.err;
        expect(namespace).toBe(body.metadata?.namespace);
        created.push(JSON.parse(JSON.stringify(body)) as EventsV1Event);
        return body;
      },
    },
    component: 'herald-controller',
    instance: 'herald-controller-7d9f-abcde',
    clock,
    log: silentLogger(),
    ...extra,
  });
  return { clock, rec, created, fail };
}

describe('EventRecorder', () => {
  it('writes an events.k8s.io/v1 Event about the object', async () => {
    const { clock, rec, created } = setup();
    rec.record(svc, 'Normal', 'IPAllocated', 'Assigned 192.0.2.10 from pool default');
    await rec.flush();
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: 'shop' },
      reportingController: 'herald.io/herald-controller',
      reportingInstance: 'herald-controller-7d9f-abcde',
      action: 'IPAllocated',
      reason: 'IPAllocated',
      note: 'Assigned 192.0.2.10 from pool default',
      type: 'Normal',
      regarding: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'shop', uid: 'uid-1' },
    });
    expect(created[0]?.metadata?.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(String(created[0]?.eventTime)).toBe(new Date(clock.now()).toISOString().replace('Z', '000Z'));
  });

  it('does not re-create an identical Event within 10 minutes, and does after', async () => {
    const { clock, rec, created } = setup();
    rec.record(svc, 'Warning', 'NoPool', 'no pool matches');
    rec.record(svc, 'Warning', 'NoPool', 'no pool matches');
    await clock.advanceAsync(9 * 60_000);
    rec.record(svc, 'Warning', 'NoPool', 'no pool matches');
    // A different message, reason or object is a different Event.
    rec.record(svc, 'Warning', 'NoPool', 'no pool matches 2001:db8::1');
    rec.record(svc, 'Warning', 'PoolFull', 'no pool matches');
    rec.record({ ...svc, metadata: { ...svc.metadata, uid: 'uid-2' } }, 'Warning', 'NoPool', 'no pool matches');
    await rec.flush();
    expect(created).toHaveLength(4);
    await clock.advanceAsync(60_000);
    rec.record(svc, 'Warning', 'NoPool', 'no pool matches');
    await rec.flush();
    expect(created).toHaveLength(5);
  });

  it('remembers a bounded number of Events, forgetting the oldest', async () => {
    const { rec, created } = setup({ maxTracked: 3 });
    for (const m of ['a', 'b', 'c', 'd']) rec.record(svc, 'Normal', 'R', m);
    expect(rec.tracked).toBe(3);
    rec.record(svc, 'Normal', 'R', 'd'); // remembered
    rec.record(svc, 'Normal', 'R', 'a'); // forgotten: written again
    await rec.flush();
    expect(created.map((e) => e.note)).toEqual(['a', 'b', 'c', 'd', 'a']);
  });

  it('never throws: a failed write is logged and the next identical record tries again', async () => {
    const { log, lines } = memoryLogger();
    const { rec, created, fail } = setup({ log });
    fail.err = new ApiException(403, 'x', JSON.stringify({ kind: 'Status', message: 'unable to create new content in namespace shop because it is being terminated' }), {});
    expect(() => rec.record(svc, 'Warning', 'NoPool', 'no pool')).not.toThrow();
    await rec.flush();
    expect(lines().find((l) => l['event'] === 'eventFailed')).toMatchObject({
      level: 'warn',
      status: 403,
      err: 'HTTP 403: unable to create new content in namespace shop because it is being terminated',
      reason: 'NoPool',
    });
    fail.err = undefined;
    rec.record(svc, 'Warning', 'NoPool', 'no pool');
    await rec.flush();
    expect(created).toHaveLength(1);
  });

  it('gives up on a write that hangs, and holds Events beyond the in-flight limit until a write ends', async () => {
    const { log, lines } = memoryLogger();
    const { clock, rec, fail } = setup({ log, maxInFlight: 2, timeoutMs: 1_000 });
    fail.hang = true;
    rec.record(svc, 'Normal', 'R', '1');
    rec.record(svc, 'Normal', 'R', '2');
    rec.record(svc, 'Normal', 'R', '3');
    expect(rec.pending).toBe(1);
    expect(rec.dropped).toBe(0);
    // (No flush here: the third write starts as a slot frees, and it hangs too.)
    await clock.advanceAsync(1_000);
    expect(lines().filter((l) => l['event'] === 'eventFailed').map((l) => l['err'])).toEqual([
      'create Event in shop: no answer within 1000 ms',
      'create Event in shop: no answer within 1000 ms',
    ]);
    // A slot came free: the third went out (and hangs in its turn).
    expect(rec.pending).toBe(0);
    await clock.advanceAsync(1_000);
    await rec.flush();
    expect(lines().filter((l) => l['event'] === 'eventFailed')).toHaveLength(3);
    expect(lines().filter((l) => l['event'] === 'eventDropped')).toHaveLength(0);
  });

  it('holds Events while the owner is busy, and writes them once it is not', async () => {
    let busy = true;
    const { clock, rec, created } = setup({ busy: () => busy });
    rec.record(svc, 'Normal', 'R', 'a');
    rec.record(svc, 'Normal', 'R', 'b');
    await rec.flush();
    expect(created).toHaveLength(0);
    await clock.advanceAsync(BUSY_RECHECK_MS * 3);
    await rec.flush();
    expect(created).toHaveLength(0);
    expect(rec.pending).toBe(2);
    busy = false;
    await clock.advanceAsync(BUSY_RECHECK_MS);
    await rec.flush();
    expect(created.map((e) => e.note)).toEqual(['a', 'b']);
    expect(rec.pending).toBe(0);
  });

  it('paces writes with a token bucket so Events never crowd out status writes', async () => {
    const { clock, rec, created } = setup({ qps: 10, burst: 2 });
    for (let i = 0; i < 5; i++) rec.record(svc, 'Normal', 'R', `m${i}`);
    await rec.flush();
    expect(created.map((e) => e.note)).toEqual(['m0', 'm1']);
    expect(rec.pending).toBe(3);
    await clock.advanceAsync(100);
    await rec.flush();
    expect(created).toHaveLength(3);
    await clock.advanceAsync(200);
    await rec.flush();
    expect(created.map((e) => e.note)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(rec.pending).toBe(0);
  });

  it('drops the oldest waiting Event beyond the backlog, counting it', async () => {
    const dropped: string[] = [];
    const { clock, rec, created } = setup({ qps: 1, burst: 1, maxPending: 2, onDropped: (why) => dropped.push(why) });
    for (let i = 0; i < 5; i++) rec.record(svc, 'Normal', 'R', `m${i}`);
    expect(dropped).toEqual(['backlog', 'backlog']);
    expect(rec.dropped).toBe(2);
    await clock.advanceAsync(2_000);
    await rec.flush();
    expect(created.map((e) => e.note)).toEqual(['m0', 'm3', 'm4']);
    rec.close();
  });

  it('puts Events about cluster-scoped objects in default, and keeps fields within API limits', async () => {
    const { rec, created } = setup();
    const pool: EventSubject = { apiVersion: 'herald.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'x'.repeat(253), uid: 'u' } };
    rec.record(pool, 'Warning', 'R'.repeat(200), 'é'.repeat(1000));
    await rec.flush();
    const e = created[0];
    expect(e?.metadata?.namespace).toBe('default');
    expect(e?.regarding).not.toHaveProperty('namespace');
    expect(e?.metadata?.name?.length).toBeLessThanOrEqual(253);
    expect(e?.reason).toHaveLength(128);
    expect(Buffer.byteLength(e?.note ?? '')).toBeLessThanOrEqual(1024);
    expect(e?.note).toMatch(/^é+\.\.\.$/);
  });

  it('refuses a component that the API server would refuse as reportingController', () => {
    expect(() => setup({ component: 'herald controller' })).toThrow(/component/);
  });
});
