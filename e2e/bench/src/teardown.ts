/**
 * Teardown for a benchmark that builds labs and control planes: the cleanup runs once, at the
 * end or on the first SIGINT/SIGTERM (then the process exits 130/143; a second signal exits at
 * once). While these listeners are installed, the lab's own signal hook (a synchronous teardown
 * of the namespaces) does not re-raise the signal, so the control plane and the API objects are
 * cleaned up too; the harness's exit hook still kills the control plane's processes.
 * @packageDocumentation
 */
export interface Guard {
  /** Runs the teardown steps (once; later calls return the same promise). */
  cleanup(): Promise<void>;
  /**
   * The end of the benchmark: runs the teardown, then removes the signal listeners. In that
   * order, so a signal during the teardown waits for it instead of killing the process
   * half-way (which left an etcd behind).
   */
  finish(): Promise<void>;
}

export function guardTeardown(log: (line: string) => void, steps: () => Promise<void>): Guard {
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (cleaning ??= steps());
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    const code = sig === 'SIGINT' ? 130 : 143;
    if (signalled) process.exit(code);
    signalled = true;
    log(`${sig}: tearing down`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    cleanup,
    finish: async () => {
      try {
        await cleanup();
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  };
}
