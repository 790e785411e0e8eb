/**
 * Helpers for this directory's loopback tests: polling, event capture, and teardown that runs
 * even when a test fails. Test support only: not exported from the package entry.
 * @packageDocumentation
 */

import type { BgpPeer, BgpPeerEvents } from './peer.js';

/** Polls `condition` every 20 ms; rejects with `what` and `detail()` after `timeoutMs`. */
export async function until(what: string, condition: () => boolean, timeoutMs = 20_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail === undefined ? '' : `\n${detail()}`}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The next emission of `event`. */
export function next<K extends keyof BgpPeerEvents>(peer: BgpPeer, event: K): Promise<Parameters<BgpPeerEvents[K]>[0]> {
  return new Promise((resolve) => {
    const off = peer.on(event, ((value: Parameters<BgpPeerEvents[K]>[0]) => {
      off();
      resolve(value);
    }) as BgpPeerEvents[K]);
  });
}

/** Teardown steps, run newest first; every step runs even if one fails. */
export class Cleanup {
  readonly #steps: Array<() => unknown> = [];

  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

/** A logger that keeps lines for failure messages. */
export function memoryLog(prefix: string, lines: string[]): { info: (f: Record<string, unknown>, m: string) => void; warn: (f: Record<string, unknown>, m: string) => void } {
  const write = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    lines.push(`${prefix} ${level} ${msg} ${JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`);
  return { info: write('info'), warn: write('WARN') };
}
