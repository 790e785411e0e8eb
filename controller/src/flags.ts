import { z } from 'zod';
import { dnsLabel, hostPort, loadBalancerClass, logLevel, parseFlags, type FlagValues } from '@herald/shared/cli';

/** The controller's flags; each is also read from its environment variable. */
export const CONTROLLER_FLAGS = {
  namespace: { name: 'namespace', env: 'HERALD_NAMESPACE', schema: dnsLabel, help: 'namespace of IPAddressPools and the leader Lease (required)' },
  kubeconfig: { name: 'kubeconfig', env: 'KUBECONFIG', schema: z.string().min(1).optional(), help: 'kubeconfig file; in-cluster config when absent' },
  lbClass: {
    name: 'lb-class',
    env: 'HERALD_LB_CLASS',
    schema: loadBalancerClass.optional(),
    help: 'handle only Services with this spec.loadBalancerClass (default: only Services without one)',
  },
  metricsAddr: { name: 'metrics-addr', env: 'HERALD_METRICS_ADDR', schema: hostPort.prefault('0.0.0.0:7472'), help: 'Prometheus /metrics listen address' },
  healthAddr: { name: 'health-addr', env: 'HERALD_HEALTH_ADDR', schema: hostPort.prefault('0.0.0.0:7473'), help: '/healthz and /readyz listen address' },
  leaderElect: { name: 'leader-elect', env: 'HERALD_LEADER_ELECT', boolean: true, schema: z.boolean().default(false), help: 'elect a leader through a Lease; only the leader writes' },
  logLevel: { name: 'log-level', env: 'HERALD_LOG_LEVEL', schema: logLevel.default('info'), help: 'trace, debug, info, warn, error, fatal or silent' },
} as const;

export type ControllerFlags = FlagValues<typeof CONTROLLER_FLAGS>;

export function parseControllerFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ControllerFlags {
  return parseFlags(CONTROLLER_FLAGS, argv, env);
}
