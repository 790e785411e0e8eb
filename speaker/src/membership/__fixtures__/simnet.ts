/**
 * Test support: an in-memory network of {@link Swim} members on one {@link FakeClock}, with
 * per-link loss, delay and partitions, deterministic for a seed. Not exported from the package.
 * @packageDocumentation
 */
import type { Clock, TimerHandle } from '@herald/shared/core';
import { FakeClock } from '@herald/shared/core';
import type { Endpoint, MemberState } from '../codec.js';
import { Swim, type ChangeReason, type SwimConfig } from '../swim.js';

/** Mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Change {
  readonly at: number;
  readonly observer: string;
  readonly member: string;
  readonly prev: MemberState | undefined;
  readonly next: MemberState;
  readonly reason: ChangeReason;
}

/**
 * A clock for one member that can be starved: while starved its timers do not run, then all
 * run late at once, before any datagram that arrived meanwhile, as Node's timers phase runs
 * before its poll phase after the event loop was blocked.
 */
class StarvableClock implements Clock {
  starvedUntil = -Infinity;
  readonly held: (() => void)[] = [];
  constructor(private readonly base: FakeClock) {}
  now(): number {
    return this.base.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.base.setTimeout(() => (this.base.now() < this.starvedUntil ? this.held.push(fn) : fn()), ms);
  }
  clearTimeout(h: TimerHandle): void {
    this.base.clearTimeout(h);
  }
}

interface SimNode {
  readonly name: string;
  readonly ep: Endpoint;
  readonly swim: Swim;
  readonly clock: StarvableClock;
  up: boolean;
  heldPackets: (() => void)[];
}

export interface SimOptions {
  readonly seed: number;
  readonly config?: Partial<SwimConfig>;
  /** Probability that any one datagram is lost. */
  readonly loss?: number;
  /** One-way delay in ms: `baseDelay + random() * jitter`. */
  readonly baseDelay?: number;
  readonly jitter?: number;
  /** Member names; `n0..n{count-1}` by default. */
  readonly names?: readonly string[];
}

const key = Buffer.from('sim-key-0123456789abcdef01234567');

export class SimNet {
  readonly clock = new FakeClock();
  readonly changes: Change[] = [];
  readonly nodes = new Map<string, SimNode>();
  readonly #byEp = new Map<string, SimNode>();
  readonly #rng: () => number;
  readonly #cut = new Set<string>();
  readonly #extraDelay = new Map<string, number>();
  readonly #opts: SimOptions;
  maxDatagram = 0;
  datagrams = 0;
  /** Datagrams sent to each member, by name (counted before loss or cuts). */
  readonly sentTo = new Map<string, number>();

  constructor(count: number, opts: SimOptions) {
    this.#opts = opts;
    this.#rng = prng(opts.seed);
    for (let i = 0; i < count; i++) {
      const name = opts.names?.[i] ?? `n${i}`;
      const ep = { address: `10.0.${i >> 8}.${(i & 255) + 1}`, port: 7946 };
      const clock = new StarvableClock(this.clock);
      const swim = new Swim({
        self: { name, ...ep },
        clock,
        keys: [key],
        random: prng(opts.seed * 1000 + i),
        ...(opts.config ? { config: opts.config } : {}),
        send: (to, bytes) => this.#send(ep, to, bytes),
      });
      swim.onChange((m, prev, next, reason) => this.changes.push({ at: this.clock.now(), observer: name, member: m.name, prev, next, reason }));
      const node: SimNode = { name, ep, swim, clock, up: true, heldPackets: [] };
      this.nodes.set(name, node);
      this.#byEp.set(`${ep.address}:${ep.port}`, node);
    }
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Everyone joins through the first member. */
  joinAll(): void {
    const first = [...this.nodes.values()][0];
    if (!first) return;
    first.swim.start();
    for (const n of this.nodes.values()) if (n !== first) n.swim.join([first.ep]);
  }

  /** True when every up member sees exactly the up members as alive and the rest as not. */
  converged(): boolean {
    const up = [...this.nodes.values()].filter((n) => n.up);
    return up.every((n) => {
      const view = new Map(n.swim.members().map((m) => [m.name, m.state]));
      return [...this.nodes.values()].every((o) => (o.up ? view.get(o.name) === 'alive' : view.get(o.name) !== 'alive'));
    });
  }

  /** Stops a member dead: no goodbye, no answers (a crash or a power cut). */
  crash(name: string): void {
    const n = this.node(name);
    n.up = false;
    n.swim.stop();
  }

  /** Cuts both directions between every member of `a` and every member of `b`. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) this.#cut.add(`${x}>${y}`).add(`${y}>${x}`);
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Cuts all traffic to and from `name` (it keeps running, unheard and deaf). */
  isolate(name: string, on: boolean): void {
    for (const o of this.nodes.keys()) {
      if (o === name) continue;
      if (on) {
        this.#cut.add(`${o}>${name}`).add(`${name}>${o}`);
      } else {
        this.#cut.delete(`${o}>${name}`);
        this.#cut.delete(`${name}>${o}`);
      }
    }
  }

  /** Adds `ms` one way on every link into and out of `name`. */
  slow(name: string, ms: number): void {
    this.#extraDelay.set(name, ms);
  }

  /** Blocks a member's event loop for `ms`: timers and input wait, then run late, timers first. */
  starve(name: string, ms: number): void {
    const n = this.node(name);
    n.clock.starvedUntil = this.clock.now() + ms;
    this.clock.setTimeout(() => {
      n.clock.starvedUntil = -Infinity;
      for (const fn of n.clock.held.splice(0)) fn();
      for (const fn of n.heldPackets.splice(0)) fn();
    }, ms);
  }

  #send(fromEp: Endpoint, to: Endpoint, bytes: Buffer): void {
    this.datagrams++;
    this.maxDatagram = Math.max(this.maxDatagram, bytes.length);
    const from = this.#byEp.get(`${fromEp.address}:${fromEp.port}`);
    const dst = this.#byEp.get(`${to.address}:${to.port}`);
    if (!from || !dst) return;
    this.sentTo.set(dst.name, (this.sentTo.get(dst.name) ?? 0) + 1);
    if (this.#cut.has(`${from.name}>${dst.name}`)) return;
    if (this.#rng() < (this.#opts.loss ?? 0)) return;
    const delay =
      (this.#opts.baseDelay ?? 0.5) + this.#rng() * (this.#opts.jitter ?? 1) + (this.#extraDelay.get(from.name) ?? 0) + (this.#extraDelay.get(dst.name) ?? 0);
    const copy = Buffer.from(bytes);
    this.clock.setTimeout(() => {
      if (!dst.up) return;
      const deliver = (): void => dst.swim.receive(fromEp, copy);
      if (this.clock.now() < dst.clock.starvedUntil) dst.heldPackets.push(deliver);
      else deliver();
    }, delay);
  }
}
