/**
 * @herald/shared/core: the small building blocks every Herald package uses:
 * an injectable {@link Clock}, the one error type {@link HeraldError}, and pino logging.
 * @packageDocumentation
 */
export { FakeClock, sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
export {
  HERALD_ERROR_CODES,
  HeraldError,
  errorMessage,
  isConflict,
  isHeraldError,
  isNotFound,
  kubeError,
  statusCode,
  type HeraldErrorCode,
} from './errors.js';
export {
  LOG_LEVELS,
  REDACT_PATHS,
  createLogger,
  memoryLogger,
  silentLogger,
  type LogLevel,
  type Logger,
  type LoggerOptions,
  type MemoryLogger,
} from './log.js';
