/** The fault tests by name, as `npm run faults -- NAME` knows them. */
import { runControllerChurn } from './controller-churn.js';
import { runGarbage } from './garbage.js';
import { runL2OwnerKill } from './l2-owner-kill.js';
import { runRouterRestart } from './router-restart.js';
import type { FaultReport, Log, Size } from './report.js';

export interface Fault {
  readonly run: (size: Size, log: Log) => Promise<FaultReport>;
  /** Runs on the shared control plane (HERALD_TEST_KUBECONFIG) rather than one of its own. */
  readonly sharedControlPlane: boolean;
  /** Builds network namespaces. */
  readonly needsRoot: boolean;
}

export const FAULTS = {
  'controller-churn': { run: (size, log) => runControllerChurn(size, { log }), sharedControlPlane: false, needsRoot: false },
  'l2-owner-kill': { run: (size, log) => runL2OwnerKill(size, { log }), sharedControlPlane: true, needsRoot: true },
  'router-restart': { run: (size, log) => runRouterRestart(size, { log }), sharedControlPlane: true, needsRoot: true },
  garbage: { run: (size, log) => runGarbage(size, { log }), sharedControlPlane: true, needsRoot: true },
} satisfies Record<string, Fault>;

export type FaultName = keyof typeof FAULTS;
