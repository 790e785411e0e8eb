/**
 * Process-wide safety net: test beds (labs, clusters) that are still alive when the
 * process exits or is told to stop (SIGINT/SIGTERM/SIGHUP) are torn down synchronously,
 * so a crashed or interrupted test run leaves no namespaces behind. One copy per process:
 * two copies would each see the other's signal listener and neither would re-raise the
 * signal, so the process would not stop (a test using a lab's routers on a cluster did).
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
      // Best effort on the way out: one bed's failure must not stop the others' cleanup.
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
