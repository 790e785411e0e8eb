/**
 * Process-wide safety net: clusters that are still up when the process exits or
 * is told to stop (SIGINT/SIGTERM/SIGHUP) are torn down synchronously, so a
 * crashed or interrupted test run leaves no namespaces behind.
 * The same mechanism as @herald/lab's (which does not export it).
 */
type SyncCleanup = () => void;

const live = new Set<SyncCleanup>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function cleanupAll(): void {
  for (const fn of [...live]) {
    live.delete(fn);
    try {
      fn();
    } catch {
      // Best effort on the way out: one cluster's failure must not stop the others' cleanup.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAll();
  // Our listener replaced Node's default action (exit). If nobody else handles the
  // signal, restore the default and re-raise it so the process still stops.
  if (process.listenerCount(signal) <= 1) {
    unhook();
    process.kill(process.pid, signal);
  }
}

let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.off('exit', cleanupAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** Registers a synchronous cleanup; the returned function unregisters it. */
export function onProcessExit(fn: SyncCleanup): () => void {
  live.add(fn);
  hook();
  return () => {
    live.delete(fn);
    if (live.size === 0) unhook();
  };
}
