/**
 * Where log lines go: stdout, written in batches.
 *
 * One write per line costs more than the line. Measured with the controller allocating
 * 3,000 Services on a 2-core machine, logging at `info` (one line per allocation, one
 * synchronous write each to the pipe that a container runtime or a test reads) cost
 * about 0.5 s of the controller's CPU and 0.5-1 s of the run's wall time against
 * `warn`: every write wakes the reader, which takes a core from the API server. Here
 * lines logged within {@link LineBatcherOptions.delayMs} of each other go out in one
 * write, so a burst costs tens of writes instead of thousands, and a quiet process
 * still shows each line within that delay.
 *
 * Nothing is lost on a normal exit, `process.exit` or an uncaught error: pending lines
 * are written synchronously on the process's `exit` event. Only a SIGKILL can lose the
 * last {@link LineBatcherOptions.delayMs} of lines.
 * @packageDocumentation
 */
import { writeSync } from 'node:fs';
import type { Clock, TimerHandle } from './clock.js';

export interface LineBatcherOptions {
  /** Writes one batch; must write all of it (synchronously) or throw. */
  readonly write: (chunk: string) => void;
  readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  /** Longest a line waits for company. Default 50 ms. */
  readonly delayMs?: number;
  /** A batch this large is written at once. Default 64 KiB. */
  readonly maxBytes?: number;
}

/** A pino destination that batches lines; see the module comment. */
export class LineBatcher {
  readonly #write: (chunk: string) => void;
  readonly #clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  readonly #delayMs: number;
  readonly #maxBytes: number;
  #lines: string[] = [];
  #bytes = 0;
  #timer: TimerHandle | undefined;

  constructor(opts: LineBatcherOptions) {
    this.#write = opts.write;
    this.#clock = opts.clock;
    this.#delayMs = opts.delayMs ?? 50;
    this.#maxBytes = opts.maxBytes ?? 64 * 1024;
  }

  /** pino calls this with one complete line (newline included). */
  write(line: string): void {
    this.#lines.push(line);
    // String length, not bytes: close enough for a batching threshold.
    this.#bytes += line.length;
    if (this.#bytes >= this.#maxBytes) {
      this.flush();
      return;
    }
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#delayMs);
  }

  /** Lines waiting to be written. */
  get pending(): number {
    return this.#lines.length;
  }

  /** Writes what is waiting, now. */
  flush(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#lines.length === 0) return;
    const chunk = this.#lines.join('');
    this.#lines = [];
    this.#bytes = 0;
    try {
      this.#write(chunk);
    } catch {
      // Logging must never take the process down (a closed pipe, a full disk); the
      // lines are dropped, as a synchronous pino destination would drop them on EPIPE.
    }
  }
}

/**
 * Writes all of `chunk` to a file descriptor. Pipes may be non-blocking (EAGAIN when
 * the reader is slow): retry until written, as the process would block on a blocking one.
 */
export function writeAllSync(fd: number, chunk: string): void {
  let buf = Buffer.from(chunk, 'utf8');
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      // Wait a moment without spinning the CPU flat out.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** A {@link LineBatcher} on stdout, flushed when the process exits. */
export function stdoutBatcher(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>): LineBatcher {
  const batcher = new LineBatcher({ write: (chunk) => writeAllSync(1, chunk), clock });
  process.once('exit', () => batcher.flush());
  return batcher;
}
