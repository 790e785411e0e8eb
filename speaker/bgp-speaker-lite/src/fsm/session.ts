/**
 * A thin driver around {@link transition}: it owns the state and the timers (on an injected
 * {@link Clock}), turns timer expiries into events, and hands every other action to `onAction`
 * for the TCP and codec layers to carry out.
 * @packageDocumentation
 */

import type { Clock, TimerHandle } from '../clock.js';
import { initialSessionState, transition } from './transition.js';
import type { Action, SessionConfig, SessionEvent, SessionState, TimerName } from './types.js';

/** The actions {@link Session} passes on: all but the timer actions, which it runs itself. */
export type IoAction<U = unknown> = Exclude<Action<U>, { type: 'startTimer' | 'stopTimer' }>;

/** A state change, for logs and metrics. */
export interface SessionTransitionInfo<U = unknown> {
  readonly from: SessionState;
  readonly to: SessionState;
  readonly event: SessionEvent<U>;
}

/** Options of {@link Session}. */
export interface SessionOptions<U = unknown> {
  readonly config: SessionConfig;
  readonly clock: Clock;
  /**
   * Carries out an action. It may call {@link Session.handle}; such events are queued. It must
   * not throw: report failures as events (e.g. `TcpConnectionFails`). If it throws anyway, the
   * error propagates out of `handle`, the rest of that step's actions are skipped and queued
   * events are dropped.
   */
  readonly onAction: (action: IoAction<U>) => void;
  /** Called after every event, whether or not the state changed. */
  readonly onTransition?: (info: SessionTransitionInfo<U>) => void;
  /** Defaults to Idle, not started. */
  readonly initialState?: SessionState;
}

const TIMER_EVENTS: Readonly<Record<TimerName, SessionEvent['type']>> = {
  ConnectRetryTimer: 'ConnectRetryTimer_Expires',
  HoldTimer: 'HoldTimer_Expires',
  KeepaliveTimer: 'KeepaliveTimer_Expires',
  IdleHoldTimer: 'IdleHoldTimer_Expires',
};

/**
 * One BGP session (one TCP connection) driven by events. Feed it TCP and message events with
 * {@link Session.handle}; it calls `onAction` in order for everything it wants done.
 * Events raised while an event is being processed (from `onAction`) run after it, in order.
 */
export class Session<U = unknown> {
  readonly #config: SessionConfig;
  readonly #clock: Clock;
  readonly #onAction: (action: IoAction<U>) => void;
  readonly #onTransition: ((info: SessionTransitionInfo<U>) => void) | undefined;
  readonly #timers = new Map<TimerName, TimerHandle>();
  readonly #queue: SessionEvent<U>[] = [];
  #state: SessionState;
  #busy = false;
  #disposed = false;

  constructor(options: SessionOptions<U>) {
    this.#config = options.config;
    this.#clock = options.clock;
    this.#onAction = options.onAction;
    this.#onTransition = options.onTransition;
    this.#state = options.initialState ?? initialSessionState;
  }

  /** The current state. */
  get state(): SessionState {
    return this.#state;
  }

  /** Whether a timer is running (for tests and diagnostics). */
  timerRunning(name: TimerName): boolean {
    return this.#timers.has(name);
  }

  /** Processes an event, then any events raised meanwhile. Ignored after {@link Session.dispose}. */
  handle(event: SessionEvent<U>): void {
    if (this.#disposed) return;
    this.#queue.push(event);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined && !this.#disposed; next = this.#queue.shift()) {
        this.#step(next);
      }
    } finally {
      this.#busy = false;
      this.#queue.length = 0;
    }
  }

  /** `ManualStart`, or `ManualStart_with_PassiveTcpEstablishment` when `passive`. */
  start(passive = false): void {
    this.handle({ type: passive ? 'ManualStart_with_PassiveTcpEstablishment' : 'ManualStart' });
  }

  /** `ManualStop`: Cease/Administrative Shutdown (or `subcode`) if a connection is open, then Idle. */
  stop(subcode?: number, data?: Uint8Array): void {
    this.handle({ type: 'ManualStop', ...(subcode !== undefined ? { subcode } : {}), ...(data !== undefined ? { data } : {}) });
  }

  /** Cancels all timers and ignores further events. Does not emit actions; stop first for a clean close. */
  dispose(): void {
    this.#disposed = true;
    for (const handle of this.#timers.values()) this.#clock.clearTimeout(handle);
    this.#timers.clear();
  }

  #step(event: SessionEvent<U>): void {
    const from = this.#state;
    const { state, actions } = transition(from, event, this.#config);
    this.#state = state;
    for (const action of actions) {
      if (this.#disposed) return;
      if (action.type === 'startTimer') this.#startTimer(action.name, action.ms);
      else if (action.type === 'stopTimer') this.#stopTimer(action.name);
      else this.#onAction(action);
    }
    this.#onTransition?.({ from, to: state, event });
  }

  #startTimer(name: TimerName, ms: number): void {
    this.#stopTimer(name);
    const handle = this.#clock.setTimeout(() => {
      this.#timers.delete(name);
      this.handle({ type: TIMER_EVENTS[name] } as SessionEvent<U>);
    }, ms);
    this.#timers.set(name, handle);
  }

  #stopTimer(name: TimerName): void {
    if (!this.#timers.has(name)) return;
    this.#clock.clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }
}
