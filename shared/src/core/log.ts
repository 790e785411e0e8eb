/**
 * Logging: pino, JSON lines to stdout, one logger created in `main` and passed down.
 * Components add context with `log.child({ component, ... })` and use stable keys
 * (`event`, `reason`, `err`) so that logs can be queried.
 * @packageDocumentation
 */
import { pino } from 'pino';
import type { DestinationStream, LevelWithSilent, Logger as PinoLogger } from 'pino';
import { systemClock } from './clock.js';
import { stdoutBatcher } from './log-sink.js';

/** The logger type every Herald component takes. */
export type Logger = PinoLogger;

/** Levels accepted by {@link createLogger} (`silent` turns logging off). */
export type LogLevel = LevelWithSilent;

/** Every {@link LogLevel}, for flag validation. */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Paths whose values are never written. Secrets reach log calls by accident (a Secret
 * object logged whole, an HTTP request with headers, a BGP peer with its MD5 password),
 * so redaction is on by default rather than left to each call site. `*` matches one level:
 * `*.data` covers `{ secret: { data } }`, the shape a logged object takes under its key.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'bearerToken',
  '*.bearerToken',
  '*.data',
  '*.stringData',
  'authorization',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
];

/** What {@link createLogger} needs. */
export interface LoggerOptions {
  /** Minimum level written. */
  level: LogLevel;
  /** Program or component name, written as `name` on every line. */
  name: string;
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

function pinoOptions(level: LogLevel, name: string | undefined): pino.LoggerOptions {
  return {
    level,
    redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' },
    // Level as a word and ISO time: logs are read by people as often as by machines.
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // pid and hostname are in the Pod's metadata already; on every line they are noise.
    // (pino writes `name` through `base`, so it goes here.)
    base: name !== undefined ? { name } : null,
  };
}

/**
 * A JSON logger writing to stdout (or `destination`), with secrets redacted. Stdout
 * lines are written in batches, at most 50 ms late, and flushed on exit (see log-sink).
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options = pinoOptions(opts.level, opts.name);
  return pino(options, opts.destination ?? stdoutBatcher(systemClock));
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger that keeps its lines in memory, for tests that assert on what was logged. */
export interface MemoryLogger {
  readonly log: Logger;
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
}

/** A logger whose output a test can read back; configured like {@link createLogger}. */
export function memoryLogger(level: LogLevel = 'trace'): MemoryLogger {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (msg: string) => void lines.push(msg) };
  return {
    log: pino(pinoOptions(level, undefined), destination),
    lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
