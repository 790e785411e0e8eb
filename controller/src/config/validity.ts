/**
 * The `Valid` condition of every herald.io configuration object but pools (whose status the
 * pool reconciler writes with its counts), and a Warning Event for each invalid one. The
 * verdicts come from the one configuration model, so the condition says exactly what the
 * speakers run: the object as written, or its last valid version (MetalLB 0.15.3 added a
 * ConfigurationState resource for this; ours is the object's own status).
 * @packageDocumentation
 */
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { BFDProfileKind, BGPAdvertisementKind, BGPPeerKind, CommunityKind, GROUP, L2AdvertisementKind, VERSION } from '@herald/shared/api';
import { ConfigTracker, type ConfigInput, type ConfigKind, type ObjectVerdict } from '@herald/shared/config';
import { errorMessage, isConflict, isNotFound, type Clock, type Logger } from '@herald/shared/core';
import { createInformer, ok, retry, setCondition, type EventRecorder, type EventSubject, type Informer, type ReconcileResult } from '@herald/shared/kube';

type ConfigObject = KubernetesObject & { spec?: unknown; status?: Record<string, unknown> };

/** The kinds this reporter watches; pools are the pool reconciler's. */
const KINDS = [
  ['L2Advertisement', L2AdvertisementKind.plural],
  ['BGPAdvertisement', BGPAdvertisementKind.plural],
  ['BGPPeer', BGPPeerKind.plural],
  ['BFDProfile', BFDProfileKind.plural],
  ['Community', CommunityKind.plural],
] as const satisfies readonly (readonly [ConfigKind, string])[];

export interface ConfigValidityOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: EventRecorder;
  /** Counts status writes by kind and outcome. */
  readonly onWrite?: (kind: ConfigKind, outcome: 'ok' | 'conflict' | 'error') => void;
}

export class ConfigValidity {
  readonly #o: ConfigValidityOptions;
  readonly #custom: CustomObjectsApi;
  readonly #informers = new Map<ConfigKind, Informer<ConfigObject>>();
  readonly #tracker = new ConfigTracker();
  /** kind/name -> the invalid verdict we last sent an Event for. */
  readonly #warned = new Map<string, string>();

  constructor(o: ConfigValidityOptions) {
    this.#o = o;
    this.#custom = o.kc.makeApiClient(CustomObjectsApi);
    for (const [kind, plural] of KINDS) {
      this.#informers.set(
        kind,
        createInformer<ConfigObject>(o.kc, {
          log: o.log,
          clock: o.clock,
          path: `/apis/${GROUP}/${VERSION}/namespaces/${o.namespace}/${plural}`,
          list: (sel) => this.#custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: o.namespace, plural, ...sel }),
        }),
      );
    }
  }

  /** Calls `cb` when a spec changes (our own status writes do not count). */
  onChange(cb: () => void): void {
    for (const inf of this.#informers.values()) {
      inf.onChange((ev) => {
        if (ev.type === 'update' && ev.old?.metadata?.generation === ev.obj.metadata?.generation) return;
        cb();
      });
    }
  }

  async start(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.#informers.values()) i.stop();
  }

  /** The verdicts of the current objects (last good versions carried from the previous call). */
  verdicts(): readonly ObjectVerdict[] {
    const input: ConfigInput = {};
    for (const [kind] of KINDS) input[kind] = this.#informers.get(kind)?.list() ?? [];
    return this.#tracker.update(input).verdicts;
  }

  /** Writes every object's Valid condition where it differs; a Warning Event for each new invalid verdict. */
  async reconcile(extra: readonly ObjectVerdict[] = []): Promise<ReconcileResult> {
    let failure: unknown;
    const verdicts = [...this.verdicts(), ...extra];
    const seen = new Set<string>();
    for (const v of verdicts) {
      const key = `${v.kind}/${v.name}`;
      seen.add(key);
      this.#warn(v, key);
      if (v.kind === 'IPAddressPool') continue;
      try {
        await this.#writeCondition(v);
      } catch (err) {
        failure ??= err;
      }
    }
    for (const k of this.#warned.keys()) if (!seen.has(k)) this.#warned.delete(k);
    return failure === undefined ? ok() : retry(isConflict(failure) ? 'Conflict' : 'StatusWriteFailed', failure);
  }

  #warn(v: ObjectVerdict, key: string): void {
    if (v.valid) {
      this.#warned.delete(key);
      return;
    }
    const text = `${v.generation ?? ''}/${v.message}`;
    if (this.#warned.get(key) === text) return;
    this.#warned.set(key, text);
    const obj = v.kind === 'IPAddressPool' ? undefined : this.#informers.get(v.kind)?.get(this.#o.namespace, v.name);
    const subject = { apiVersion: `${GROUP}/${VERSION}`, kind: v.kind, metadata: { name: v.name, namespace: this.#o.namespace, ...(obj?.metadata?.uid ? { uid: obj.metadata.uid } : {}) } } as EventSubject;
    this.#o.events.record(subject, 'Warning', 'InvalidConfiguration', `${v.reason}: ${v.message}`);
    this.#o.log.warn({ event: 'invalidConfig', kind: v.kind, name: v.name, reason: v.reason, kept: v.kept }, `${v.kind} ${v.name} is invalid`);
  }

  async #writeCondition(v: ObjectVerdict): Promise<void> {
    const obj = this.#informers.get(v.kind)?.get(this.#o.namespace, v.name);
    if (!obj) return;
    const plural = KINDS.find(([k]) => k === v.kind)?.[1] ?? '';
    const prev = (obj.status?.['conditions'] as never[] | undefined) ?? [];
    const conditions = setCondition(
      prev,
      { type: 'Valid', status: v.valid ? 'True' : 'False', reason: v.reason, message: v.message, ...(v.generation === undefined ? {} : { observedGeneration: v.generation }) },
      new Date(this.#o.clock.now()),
    );
    if (JSON.stringify(conditions) === JSON.stringify(prev)) return;
    try {
      await this.#custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: this.#o.namespace, plural, name: v.name, body: { ...obj, status: { ...(obj.status ?? {}), conditions } } });
      this.#o.onWrite?.(v.kind, 'ok');
    } catch (err) {
      if (isNotFound(err)) return;
      this.#o.onWrite?.(v.kind, isConflict(err) ? 'conflict' : 'error');
      if (!isConflict(err)) this.#o.log.warn({ event: 'statusWriteFailed', kind: v.kind, name: v.name, err: errorMessage(err) }, 'writing the Valid condition failed');
      throw err;
    }
  }
}
