/**
 * An informer: a local cache of one kind of object, kept current by list + watch, that
 * tells subscribers what changed. Built on client-node's `ListWatch`, which in 1.4.0:
 * - lists, then watches from the list's resourceVersion;
 * - on a watch closed cleanly, re-watches at once from the last resourceVersion seen;
 * - on 410 Gone (HTTP status or a watch ERROR event) clears the resourceVersion and
 *   relists, diffing the new list against its cache: objects no longer listed get delete
 *   callbacks (the "synthetic deletes" for objects that vanished while disconnected);
 * - on any other failure (list or watch) only calls its error callbacks and stops.
 *
 * That last point, and the missing `old` object on updates, are why this wrapper exists:
 * it restarts the ListWatch with exponential backoff after failures, bounds every watch
 * (server-side timeout plus a client-side watchdog, since a half-open TCP connection
 * otherwise hangs a watch forever), and keeps its own cache to hand out `old` objects.
 * @packageDocumentation
 */
import { ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../core/clock.js';
import { HeraldError, errorMessage, statusCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** A change to the cache. */
export interface InformerEvent<T> {
  type: 'add' | 'update' | 'delete';
  /** The object now (for `delete`: as last seen, from the watch or the cache). */
  obj: T;
  /** For `update`: the object before. For `delete`: the cached object, when there was one. */
  old?: T;
}

/**
 * What the `list` function must pass on: the selectors the watch uses, and the
 * page (`limit`, `_continue`): client-node's list calls take these names as they are.
 */
export interface ListSelectors {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  _continue?: string;
}

/**
 * Objects per list page. Paging keeps the start-up list of a large cluster from
 * holding the whole response text and its parsed copy in memory at once.
 */
const LIST_PAGE = 500;

/**
 * Drops metadata.managedFields, often the largest part of an object and never read
 * by Herald. Safe for later writes: an update that omits managedFields leaves them
 * as they are on the server (client-go informers strip them the same way).
 */
function stripManagedFields(obj: unknown): void {
  const meta = (obj as { metadata?: { managedFields?: unknown } } | null)?.metadata;
  if (meta && 'managedFields' in meta) delete meta.managedFields;
}

/** Options of {@link createInformer}. */
export interface InformerOptions<T extends KubernetesObject> {
  /**
   * Watch path: `/api/v1/services`, `/api/v1/namespaces/ns/services`,
   * `/apis/herald.io/v1beta1/ipaddresspools`.
   */
  path: string;
  /**
   * Lists the same objects as `path`. It receives the selectors so that list and watch
   * cannot disagree, e.g.
   * `(sel) => core.listServiceForAllNamespaces(sel)`.
   */
  list: (selectors: ListSelectors) => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  log: Logger;
  clock: Clock;
  /** First restart delay after a failure; doubles per consecutive failure. Default 100 ms. */
  minBackoffMs?: number;
  /** Cap of the restart delay. Default 5 s. */
  maxBackoffMs?: number;
  /** Server-side timeout of each watch request. Default 300 s. */
  watchTimeoutSeconds?: number;
}

/** A read-only cache of one kind, kept current by the API server. */
export interface Informer<T extends KubernetesObject> {
  /**
   * Starts listing and watching. Resolves once the first full list is in the cache
   * (retrying with backoff until the API server answers); rejects only if `stop()` comes
   * first. Subscribers registered before `start` see an `add` for every listed object.
   */
  start(): Promise<void>;
  /** Stops watching; no events are delivered afterwards. The cache keeps its last state. */
  stop(): void;
  /** The cached object `namespace/name` (`namespace` undefined for cluster-scoped kinds). O(1). */
  get(namespace: string | undefined, name: string): T | undefined;
  /** Cached objects of `namespace`, or of all namespaces. */
  list(namespace?: string): T[];
  /** Number of cached objects. */
  readonly size: number;
  /**
   * Subscribes to changes; returns the unsubscribe function. Callbacks run synchronously
   * as the cache changes and should only enqueue work. A throw is logged and ignored.
   */
  onChange(cb: (ev: InformerEvent<T>) => void): () => void;
  /** True once the first full list has been applied. */
  hasSynced(): boolean;
}

/**
 * The watch transport that `ListWatch` drives: client-node's `Watch` in production, a
 * fake in unit tests. `done` is called once, with null for a clean close.
 */
export interface Watcher {
  watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

/**
 * An informer on `path` (see {@link Informer}). `T` is the object type the `list`
 * function returns.
 */
export function createInformer<T extends KubernetesObject>(kc: KubeConfig, opts: InformerOptions<T>): Informer<T> {
  return buildInformer(new Watch(kc), opts);
}

/** {@link createInformer} over any {@link Watcher}; for tests. */
export function buildInformer<T extends KubernetesObject>(watcher: Watcher, opts: InformerOptions<T>): Informer<T> {
  return new ResilientInformer(watcher, opts);
}

/** A watch that ran this long, or delivered an event, was healthy: restart it at once. */
const HEALTHY_WATCH_MS = 1_000;
/** The client-side watchdog fires this long after the server-side watch timeout. */
const WATCHDOG_GRACE_MS = 30_000;

type State = 'new' | 'running' | 'stopped';

interface WatchOutcome {
  healthy: boolean;
  clean: boolean;
}

class ResilientInformer<T extends KubernetesObject> implements Informer<T> {
  readonly #watcher: Watcher;
  readonly #opts: InformerOptions<T>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #lw: ListWatch<T>;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #watchTimeoutSeconds: number;

  /** namespace ('' for cluster-scoped) → name → object, the layout ListWatch uses too. */
  readonly #store = new Map<string, Map<string, T>>();
  #size = 0;
  readonly #listeners = new Set<(ev: InformerEvent<T>) => void>();

  #state: State = 'new';
  #synced = false;
  #syncWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** Set when a list completed; the next watch call means the list was applied. */
  #listApplied = false;
  #failures = 0;
  #lastWatch: WatchOutcome | undefined;
  #restartTimer: TimerHandle | undefined;
  #watchdog: TimerHandle | undefined;
  /** The open watch request, so that stop() can end it even before ListWatch has it. */
  #current: AbortController | undefined;

  constructor(watcher: Watcher, opts: InformerOptions<T>) {
    this.#watcher = watcher;
    this.#opts = opts;
    this.#clock = opts.clock;
    this.#log = opts.log.child({ component: 'informer', path: opts.path });
    this.#minBackoffMs = opts.minBackoffMs ?? 100;
    this.#maxBackoffMs = opts.maxBackoffMs ?? 5_000;
    this.#watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 300;

    const selectors: ListSelectors = {
      ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}),
      ...(opts.fieldSelector !== undefined ? { fieldSelector: opts.fieldSelector } : {}),
    };
    const listFn = async (): Promise<KubernetesListObject<T>> => {
      this.#lastWatch = undefined;
      if (this.#synced) this.#log.info({ event: 'relist' }, 'relisting (resourceVersion expired or watch restarted from scratch)');
      // Pages of one consistent snapshot: continuations read at the first page's revision.
      let list: KubernetesListObject<T> | undefined;
      let cont: string | undefined;
      do {
        const page = await opts.list({ ...selectors, limit: LIST_PAGE, ...(cont === undefined ? {} : { _continue: cont }) });
        fillTypeMeta(page);
        for (const item of page.items) stripManagedFields(item);
        if (list === undefined) list = page;
        else list.items.push(...page.items);
        cont = page.metadata?._continue || undefined;
      } while (cont !== undefined);
      if (list.metadata) delete list.metadata._continue;
      this.#listApplied = true;
      this.#log.debug({ event: 'listed', count: list.items.length, resourceVersion: list.metadata?.resourceVersion }, 'listed');
      return list;
    };
    // ListWatch only ever calls watch() on its Watch; the shim adds bounds and bookkeeping.
    const shim = { watch: this.#watch.bind(this) } as unknown as Watch;
    this.#lw = new ListWatch<T>(opts.path, shim, listFn, false, opts.labelSelector, opts.fieldSelector);
    this.#lw.on('add', (obj) => this.#apply('add', obj));
    this.#lw.on('update', (obj) => this.#apply('update', obj));
    this.#lw.on('delete', (obj) => this.#apply('delete', obj));
    this.#lw.on('error', (err) => this.#onError(err));
  }

  get size(): number {
    return this.#size;
  }

  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(new HeraldError('Aborted', `informer ${this.#opts.path}: start() after stop()`));
    const synced = this.#synced
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => this.#syncWaiters.push({ resolve, reject }));
    if (this.#state === 'new') {
      this.#state = 'running';
      this.#restart();
    }
    return synced;
  }

  stop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    if (this.#restartTimer !== undefined) this.#clock.clearTimeout(this.#restartTimer);
    if (this.#watchdog !== undefined) this.#clock.clearTimeout(this.#watchdog);
    this.#restartTimer = undefined;
    this.#watchdog = undefined;
    this.#current?.abort();
    this.#current = undefined;
    void this.#lw.stop();
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiters) w.reject(new HeraldError('Aborted', `informer ${this.#opts.path}: stopped before the first list`));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#store.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const objs of this.#store.values()) for (const o of objs.values()) out.push(o);
    return out;
  }

  onChange(cb: (ev: InformerEvent<T>) => void): () => void {
    // Wrapped so that subscribing one function twice gives two independent subscriptions.
    const wrapped = (ev: InformerEvent<T>): void => cb(ev);
    this.#listeners.add(wrapped);
    return () => void this.#listeners.delete(wrapped);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** (Re)starts the ListWatch: it relists when it has no resourceVersion, else re-watches. */
  #restart(): void {
    this.#restartTimer = undefined;
    if (this.#state !== 'running') return;
    // ListWatch reports its own failures through the error callback; a rejection here
    // would be a bug in it or in a callback, and is handled the same way.
    this.#lw.start().catch((err: unknown) => this.#onError(err));
  }

  #onError(err: unknown): void {
    if (this.#state !== 'running') return; // stop() aborts the watch, which reports an error
    if (this.#restartTimer !== undefined) return;
    const last = this.#lastWatch;
    this.#lastWatch = undefined;
    let delayMs = 0;
    if (last?.healthy) {
      this.#failures = 0;
    } else {
      delayMs = Math.min(this.#maxBackoffMs, this.#minBackoffMs * 2 ** this.#failures);
      this.#failures++;
    }
    if (last?.clean && last.healthy) {
      this.#log.debug({ event: 'watchClosed' }, 'watch closed by the server; re-watching');
    } else {
      this.#log.warn(
        { event: 'watchFailed', err: errorMessage(err), status: statusCode(err), attempt: this.#failures, delayMs },
        'list/watch failed; restarting after backoff',
      );
    }
    this.#restartTimer = this.#clock.setTimeout(() => this.#restart(), delayMs);
  }

  #watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (this.#state !== 'running') {
      // A list finished after stop(): ListWatch goes on to watch without checking.
      const ac = new AbortController();
      ac.abort();
      return Promise.resolve(ac);
    }
    if (this.#listApplied) {
      this.#listApplied = false;
      this.#markSynced();
    }
    const started = this.#clock.now();
    let events = 0;
    let finished = false;
    let controller: AbortController | undefined;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      if (this.#watchdog !== undefined) this.#clock.clearTimeout(this.#watchdog);
      this.#watchdog = undefined;
      if (controller !== undefined && this.#current === controller) this.#current = undefined;
      const clean = err === null || err === undefined;
      this.#lastWatch = { healthy: events > 0 || this.#clock.now() - started >= HEALTHY_WATCH_MS, clean };
      if (statusCode(err) === 410) {
        done(err); // ListWatch relists by itself
        return;
      }
      // A clean close goes through the error path too, so that every restart is ours,
      // with backoff when watches keep ending as soon as they start.
      done(clean ? new HeraldError('KubeApi', `watch ${path} closed by the server`) : err);
    };
    const onEvent = (phase: string, obj: unknown, raw?: unknown): void => {
      if (finished) return;
      if (phase === 'ERROR') {
        this.#log.info({ event: 'watchError', err: errorMessage(obj), status: statusCode(obj) }, 'watch reported an error');
      } else {
        events++;
        stripManagedFields(obj);
      }
      callback(phase, obj, raw);
    };
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.#watchTimeoutSeconds };
    return this.#watcher.watch(path, params, onEvent, finish).then(
      (ac) => {
        controller = ac;
        // stop() may have come while the request was being made; ListWatch would not know
        // about this controller yet and could not abort it.
        if (this.#state !== 'running') ac.abort();
        if (!finished) {
          this.#current = ac;
          this.#watchdog = this.#clock.setTimeout(() => {
            this.#log.warn({ event: 'watchStalled' }, 'watch outlived its timeout; aborting it');
            controller?.abort();
            finish(new HeraldError('Timeout', `watch ${path} outlived its ${this.#watchTimeoutSeconds} s timeout`));
          }, this.#watchTimeoutSeconds * 1000 + WATCHDOG_GRACE_MS);
        }
        return ac;
      },
      (err: unknown) => {
        finish(err);
        const ac = new AbortController();
        ac.abort();
        return ac;
      },
    );
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    this.#log.info({ event: 'synced', count: this.#size }, 'cache synced');
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiters) w.resolve();
  }

  #apply(type: InformerEvent<T>['type'], obj: T): void {
    if (this.#state === 'stopped') return;
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let objs = this.#store.get(ns);
    const old = objs?.get(name);
    if (type === 'delete') {
      if (old === undefined || !objs) return;
      objs.delete(name);
      this.#size--;
      if (objs.size === 0) this.#store.delete(ns);
      this.#emit({ type, obj, old });
      return;
    }
    if (!objs) {
      objs = new Map();
      this.#store.set(ns, objs);
    }
    objs.set(name, obj);
    if (old === undefined) {
      this.#size++;
      this.#emit({ type: 'add', obj });
    } else {
      this.#emit({ type: 'update', obj, old });
    }
  }

  #emit(ev: InformerEvent<T>): void {
    for (const cb of this.#listeners) {
      try {
        cb(ev);
      } catch (err) {
        this.#log.error({ event: 'listenerThrew', err, type: ev.type, name: ev.obj.metadata?.name, namespace: ev.obj.metadata?.namespace }, 'informer subscriber threw');
      }
    }
  }
}

/**
 * Items of a list response carry no apiVersion/kind (the API server puts them on the
 * list only), while watch events do. Filling them in gives subscribers the same shape
 * from both sources, which Event recording and owner references rely on.
 */
function fillTypeMeta<T extends KubernetesObject>(list: KubernetesListObject<T>): void {
  const kind = list.kind?.endsWith('List') ? list.kind.slice(0, -'List'.length) : undefined;
  if (kind === undefined || list.apiVersion === undefined) return;
  for (const item of list.items) {
    item.kind ??= kind;
    item.apiVersion ??= list.apiVersion;
  }
}
