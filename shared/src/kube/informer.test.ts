import { describe, expect, it } from '@jest/globals';
import type { KubernetesListObject } from '@kubernetes/client-node';
import { FakeClock } from '../core/clock.js';
import { memoryLogger, silentLogger } from '../core/log.js';
import { buildInformer, type Informer, type InformerEvent, type InformerOptions, type ListSelectors, type Watcher } from './informer.js';

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

type Phase = 'ADDED' | 'MODIFIED' | 'DELETED';

interface FakeWatch {
  params: Record<string, string | number | boolean | undefined>;
  open: boolean;
  send(phase: string, obj: unknown): void;
  /** The server ends the response normally. */
  close(): void;
  /** The connection breaks. */
  fail(err: unknown): void;
}

const gone = (): Error => Object.assign(new Error('Gone'), { statusCode: 410 });
const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });

/** An in-memory API server for one resource, with a history for watches to replay. */
class FakeServer {
  rv = 0;
  readonly objects = new Map<string, Obj>();
  readonly history: { rv: number; phase: Phase; obj: Obj }[] = [];
  readonly watches: FakeWatch[] = [];
  readonly listCalls: ListSelectors[] = [];
  listError: unknown;
  /** Error every new watch request fails with. */
  refuse: unknown;
  /** Watches from a resourceVersion older than this get 410 Gone. */
  compactedRv = 0;

  put(name: string, data: Record<string, string> = {}, namespace = 'ns'): Obj {
    const key = `${namespace}/${name}`;
    const phase: Phase = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const obj: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, resourceVersion: String(++this.rv) }, data };
    this.objects.set(key, obj);
    this.#publish(phase, obj);
    return obj;
  }

  del(name: string, namespace = 'ns'): void {
    const key = `${namespace}/${name}`;
    const old = this.objects.get(key);
    if (!old) throw new Error(`no ${key}`);
    this.objects.delete(key);
    this.#publish('DELETED', { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } });
  }

  #publish(phase: Phase, obj: Obj): void {
    this.history.push({ rv: this.rv, phase, obj });
    for (const w of this.watches) if (w.open) w.send(phase, obj);
  }

  get current(): FakeWatch | undefined {
    return this.watches[this.watches.length - 1];
  }

  readonly list = async (sel: ListSelectors): Promise<KubernetesListObject<Obj>> => {
    this.listCalls.push(sel);
    await Promise.resolve();
    if (this.listError !== undefined) throw this.listError;
    // As the API server: items without apiVersion/kind, pages of `limit` with a continue token.
    const all = [...this.objects.values()].map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    const from = sel._continue === undefined ? 0 : Number(sel._continue);
    const to = sel.limit === undefined ? all.length : from + sel.limit;
    const more = to < all.length;
    return { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: String(this.rv), ...(more ? { _continue: String(to) } : {}) }, items: all.slice(from, to) };
  };

  readonly watcher: Watcher = {
    watch: async (_path, params, callback, done) => {
      const ac = new AbortController();
      let open = true;
      const end = (err: unknown): void => {
        if (!open) return;
        open = false;
        w.open = false;
        done(err);
      };
      const w: FakeWatch = {
        params,
        open: true,
        send: (phase, obj) => {
          if (open) callback(phase, structuredClone(obj));
        },
        close: () => end(null),
        fail: (err) => end(err),
      };
      this.watches.push(w);
      ac.signal.addEventListener('abort', () => end(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })));
      await Promise.resolve();
      if (this.refuse !== undefined) {
        end(this.refuse);
        return ac;
      }
      const from = Number(params['resourceVersion'] ?? 0);
      if (from < this.compactedRv) {
        end(gone());
        return ac;
      }
      for (const h of this.history) if (h.rv > from) w.send(h.phase, h.obj);
      return ac;
    },
  };
}

function setup(extra: Partial<InformerOptions<Obj>> = {}): {
  server: FakeServer;
  clock: FakeClock;
  inf: Informer<Obj>;
  events: string[];
  evs: InformerEvent<Obj>[];
} {
  const server = new FakeServer();
  const clock = new FakeClock();
  const inf = buildInformer<Obj>(server.watcher, { path: '/api/v1/configmaps', list: server.list, log: silentLogger(), clock, ...extra });
  const events: string[] = [];
  const evs: InformerEvent<Obj>[] = [];
  inf.onChange((ev) => {
    evs.push(ev);
    events.push(`${ev.type} ${ev.obj.metadata.name}`);
  });
  return { server, clock, inf, events, evs };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('informer', () => {
  it('resolves start() once the first list is cached, then streams changes with the old object', async () => {
    const { server, clock, inf, events, evs } = setup();
    server.put('a', { v: '1' });
    server.put('b', { v: '1' }, 'other');
    expect(inf.hasSynced()).toBe(false);
    await inf.start();
    expect(inf.hasSynced()).toBe(true);
    expect(events).toEqual(['add a', 'add b']);
    expect(inf.get('ns', 'a')?.data).toEqual({ v: '1' });
    // List items get the kind and apiVersion of their list.
    expect(inf.get('ns', 'a')).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(inf.list('other').map((o) => o.metadata.name)).toEqual(['b']);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    expect(inf.size).toBe(2);

    server.put('a', { v: '2' });
    server.put('c');
    server.del('b', 'other');
    expect(events.slice(2)).toEqual(['update a', 'add c', 'delete b']);
    expect(evs[2]?.old?.data).toEqual({ v: '1' });
    expect(evs[2]?.obj.data).toEqual({ v: '2' });
    expect(evs[4]?.old?.metadata.name).toBe('b');
    expect(inf.get('other', 'b')).toBeUndefined();
    expect(inf.list('other')).toEqual([]);
    expect(inf.size).toBe(2);
    inf.stop();
    expect(clock.pending).toBe(0);
  });

  it('passes its selectors to both list and watch, and bounds each watch', async () => {
    const { server, inf } = setup({ labelSelector: 'app=herald', fieldSelector: 'metadata.name!=x' });
    await inf.start();
    expect(server.listCalls).toEqual([{ labelSelector: 'app=herald', fieldSelector: 'metadata.name!=x', limit: 500 }]);
    expect(server.current?.params).toMatchObject({
      labelSelector: 'app=herald',
      fieldSelector: 'metadata.name!=x',
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
      resourceVersion: '0',
    });
    inf.stop();
  });

  it('lists in pages of 500 and keeps no managedFields in its cache', async () => {
    const { server, inf } = setup();
    for (let i = 0; i < 1201; i++) {
      const o = server.put(`cm-${i}`);
      (o.metadata as Record<string, unknown>)['managedFields'] = [{ manager: 'kubectl', operation: 'Apply' }];
    }
    await inf.start();
    expect(server.listCalls.map((c) => c._continue)).toEqual([undefined, '500', '1000']);
    expect(inf.size).toBe(1201);
    expect(inf.get('ns', 'cm-1200')?.metadata).not.toHaveProperty('managedFields');
  });

  it('restarts a broken watch from the last resourceVersion, backing off 100 ms doubling to 5 s, without relisting', async () => {
    const { server, clock, inf, events } = setup();
    server.put('a');
    await inf.start();
    server.put('a', { v: '2' }); // the watch has seen rv 2
    const t0 = clock.now();
    server.refuse = refused();
    server.current?.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    // Meanwhile, on the server:
    server.put('b');
    server.del('a');

    const attempts: number[] = [];
    const n0 = server.watches.length;
    for (let i = 0; i < 9; i++) {
      await clock.advanceAsync(clock.nextDue()! - clock.now());
      attempts.push(clock.now() - t0);
    }
    expect(server.watches.length - n0).toBe(9);
    // The broken watch had delivered events, so the first retry is immediate; then the
    // backoff runs 100, 200, 400, 800, 1600, 3200, 5000, 5000 ms.
    expect(attempts).toEqual([0, 100, 300, 700, 1500, 3100, 6300, 11300, 16300]);

    server.refuse = undefined;
    await clock.advanceAsync(5_000);
    expect(server.listCalls).toHaveLength(1);
    expect(server.current?.params['resourceVersion']).toBe('2');
    // The changes made while disconnected arrive as the watch replays them.
    expect(events).toEqual(['add a', 'update a', 'add b', 'delete a']);
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['b']);

    // That watch delivered events, so it was healthy: its failure is retried at once.
    const n1 = server.watches.length;
    server.current?.fail(refused());
    await clock.advanceAsync(0);
    expect(server.watches.length).toBe(n1 + 1);
    inf.stop();
  });

  it('relists on 410 Gone and emits deletes for objects that vanished while disconnected', async () => {
    const { server, clock, inf, events, evs } = setup();
    server.put('keep');
    server.put('change', { v: '1' });
    server.put('vanish');
    await inf.start();
    server.refuse = refused();
    server.current?.fail(refused());
    server.put('change', { v: '2' });
    server.del('vanish');
    server.put('new');
    server.compactedRv = server.rv; // the history the informer needs is gone
    server.refuse = undefined;
    await clock.advanceAsync(100);
    expect(server.listCalls).toHaveLength(2);
    expect(events.slice(3).sort()).toEqual(['add new', 'delete vanish', 'update change']);
    const del = evs.find((e) => e.type === 'delete');
    expect(del?.obj.metadata.name).toBe('vanish');
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(['change', 'keep', 'new']);
    expect(inf.get('ns', 'change')?.data).toEqual({ v: '2' });
    // Watching resumes from the new list's resourceVersion.
    expect(server.current?.params['resourceVersion']).toBe(String(server.rv));
    server.put('after');
    expect(inf.get('ns', 'after')).toBeDefined();
    inf.stop();
  });

  it('relists after a watch ERROR event with code 410', async () => {
    const { server, clock, inf, events } = setup();
    server.put('a');
    await inf.start();
    server.objects.delete('ns/a'); // gone without an event the informer could see
    server.current?.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' });
    server.current?.close();
    await clock.advanceAsync(5_000);
    expect(server.listCalls).toHaveLength(2);
    expect(events).toEqual(['add a', 'delete a']);
    inf.stop();
  });

  it('re-watches at once after a long watch closes cleanly, and backs off when watches end as they start', async () => {
    const { server, clock, inf } = setup();
    await inf.start();
    const n0 = server.watches.length;
    await clock.advanceAsync(60_000);
    server.current?.close(); // server-side timeout after a quiet minute
    await clock.advanceAsync(0);
    expect(server.watches.length).toBe(n0 + 1);
    server.current?.close(); // closed at once: not healthy
    await clock.advanceAsync(99);
    expect(server.watches.length).toBe(n0 + 1);
    await clock.advanceAsync(1);
    expect(server.watches.length).toBe(n0 + 2);
    inf.stop();
  });

  it('keeps retrying the first list until it succeeds, and logs the failures', async () => {
    const { log, lines } = memoryLogger();
    const { server, clock, inf } = setup({ log });
    server.put('a');
    server.listError = refused();
    let synced = false;
    void inf.start().then(() => (synced = true));
    await clock.advanceAsync(100 + 200 + 400);
    expect(server.listCalls).toHaveLength(4);
    expect(synced).toBe(false);
    server.listError = undefined;
    await clock.advanceAsync(800);
    expect(synced).toBe(true);
    expect(inf.get('ns', 'a')).toBeDefined();
    const failures = lines().filter((l) => l['event'] === 'watchFailed');
    expect(failures).toHaveLength(4);
    expect(failures[0]).toMatchObject({ level: 'warn', component: 'informer', path: '/api/v1/configmaps', err: 'connect ECONNREFUSED 127.0.0.1:6443', delayMs: 100 });
    inf.stop();
  });

  it('aborts a watch that outlives its timeout, as a half-open connection would', async () => {
    const { server, clock, inf } = setup({ watchTimeoutSeconds: 60 });
    await inf.start();
    const w = server.current;
    await clock.advanceAsync(60_000 + 29_999);
    expect(w?.open).toBe(true);
    await clock.advanceAsync(1);
    expect(w?.open).toBe(false);
    expect(server.current).not.toBe(w);
    expect(server.current?.open).toBe(true);
    inf.stop();
  });

  it('rejects a pending start() on stop(), then delivers nothing and leaves no timers', async () => {
    const { server, clock, inf, events } = setup();
    server.listError = refused();
    const started = inf.start();
    await settle();
    inf.stop();
    await expect(started).rejects.toMatchObject({ code: 'Aborted' });
    expect(clock.pending).toBe(0);
    server.put('late');
    await clock.advanceAsync(10_000);
    expect(events).toEqual([]);
    await expect(inf.start()).rejects.toMatchObject({ code: 'Aborted' });
  });

  it('stops cleanly while watching', async () => {
    const { server, clock, inf, events } = setup();
    await inf.start();
    const w = server.current;
    inf.stop();
    await settle();
    expect(w?.open).toBe(false);
    server.put('x');
    await clock.advanceAsync(10_000);
    expect(events).toEqual([]);
    expect(clock.pending).toBe(0);
    expect(server.watches.length).toBe(1);
  });

  it('isolates a subscriber that throws, and unsubscribes', async () => {
    const { server, inf, events } = setup();
    const unsubscribe = inf.onChange(() => {
      throw new Error('bad subscriber');
    });
    await inf.start();
    server.put('a');
    expect(events).toEqual(['add a']);
    const seen: string[] = [];
    const off = inf.onChange((ev) => seen.push(ev.type));
    server.put('a', { v: '2' });
    off();
    unsubscribe();
    server.put('a', { v: '3' });
    expect(seen).toEqual(['update']);
    expect(events).toEqual(['add a', 'update a', 'update a']);
    inf.stop();
  });

  it('handles 10,000 objects: list, O(1) gets, and a relist diff, in well under a second', async () => {
    const { server, clock, inf, evs } = setup();
    for (let i = 0; i < 10_000; i++) server.put(`obj-${i}`, { i: String(i) }, `ns-${i % 50}`);
    const t0 = performance.now();
    await inf.start();
    expect(inf.size).toBe(10_000);
    for (let i = 0; i < 10_000; i++) expect(inf.get(`ns-${i % 50}`, `obj-${i}`)).toBeDefined();
    expect(inf.list('ns-7')).toHaveLength(200);

    server.refuse = refused();
    server.current?.fail(refused());
    for (let i = 0; i < 1_000; i++) server.del(`obj-${i}`, `ns-${i % 50}`);
    for (let i = 1_000; i < 2_000; i++) server.put(`obj-${i}`, { i: 'changed' }, `ns-${i % 50}`);
    server.compactedRv = server.rv;
    server.refuse = undefined;
    evs.length = 0;
    await clock.advanceAsync(100);
    const elapsed = performance.now() - t0;
    expect(inf.size).toBe(9_000);
    expect(evs.filter((e) => e.type === 'delete')).toHaveLength(1_000);
    expect(evs.filter((e) => e.type === 'update')).toHaveLength(1_000);
    expect(evs.filter((e) => e.type === 'add')).toHaveLength(0);
    expect(elapsed).toBeLessThan(2_000);
    inf.stop();
  });
});
