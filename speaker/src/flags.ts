import { z } from 'zod';
import { dnsLabel, hostPort, loadBalancerClass, logLevel, parseFlags, type FlagValues } from '@herald/shared/cli';
import { parseIP, formatIP } from '@herald/shared/ip';
import { VIRTUAL_INTERFACE_PREFIXES } from './l2/interfaces.js';

const nodeName = z
  .string({ error: 'is required' })
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 subdomain (the Node object name)');

const bindAddr = z
  .string()
  .transform((s, ctx) => {
    const ip = parseIP(s);
    if (ip === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not an IP address` });
      return z.NEVER;
    }
    return formatIP(ip);
  })
  .refine((s) => s !== '0.0.0.0' && s !== '::', 'must be this node\'s own address (the others are told to use it), not a wildcard')
  .optional();

const port = z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(1, 'must be in 1..65535').max(65535, 'must be in 1..65535');

/** The speaker's flags; each is also read from its environment variable. */
export const SPEAKER_FLAGS = {
  namespace: { name: 'namespace', env: 'HERALD_NAMESPACE', schema: dnsLabel, help: 'namespace of the Herald custom resources, speaker Leases and the memberlist Secret (required)' },
  nodeName: { name: 'node-name', env: 'NODE_NAME', schema: nodeName, help: 'name of the Node this speaker runs on (required)' },
  kubeconfig: { name: 'kubeconfig', env: 'KUBECONFIG', schema: z.string().min(1).optional(), help: 'kubeconfig file; in-cluster config when absent' },
  lbClass: {
    name: 'lb-class',
    env: 'HERALD_LB_CLASS',
    schema: loadBalancerClass.optional(),
    help: 'announce only Services with this spec.loadBalancerClass (default: only Services without one); must match the controller',
  },
  bindAddr: { name: 'bind-addr', env: 'HERALD_BIND_ADDR', schema: bindAddr, help: "membership UDP address (default: the Node's InternalIP)" },
  memberlistPort: { name: 'memberlist-port', env: 'HERALD_MEMBERLIST_PORT', schema: port.default(7946), help: 'membership UDP port' },
  memberlistSecret: { name: 'memberlist-secret', env: 'HERALD_MEMBERLIST_SECRET', schema: dnsLabel.default('herald-memberlist'), help: 'Secret in the namespace holding the gossip key (data key "secretkey")' },
  metricsAddr: { name: 'metrics-addr', env: 'HERALD_METRICS_ADDR', schema: hostPort.prefault('0.0.0.0:7474'), help: 'Prometheus /metrics listen address' },
  healthAddr: { name: 'health-addr', env: 'HERALD_HEALTH_ADDR', schema: hostPort.prefault('0.0.0.0:7475'), help: '/healthz and /readyz listen address' },
  bgpGracefulShutdown: {
    name: 'bgp-graceful-shutdown',
    env: 'HERALD_BGP_GRACEFUL_SHUTDOWN',
    schema: z.coerce.number({ error: 'must be milliseconds' }).int('must be whole milliseconds').min(0, 'must be 0..60000').max(60_000, 'must be 0..60000').default(2_000),
    help: 'milliseconds routes carry the GRACEFUL_SHUTDOWN community (RFC 8326) on SIGTERM before they are withdrawn; 0 withdraws at once',
  },
  l2ExcludedInterfacePrefixes: {
    name: 'l2-excluded-interface-prefixes',
    env: 'HERALD_L2_EXCLUDED_INTERFACE_PREFIXES',
    schema: z
      .string()
      .transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p !== ''))
      .pipe(z.array(z.string().max(15, 'an interface name prefix is at most 15 characters (IFNAMSIZ)').regex(/^[^\s/]+$/, 'must not contain spaces or /')))
      .optional(),
    help: `comma-separated interface name prefixes L2 mode never announces on unless an L2Advertisement lists them (default: ${VIRTUAL_INTERFACE_PREFIXES.join(',')})`,
  },
  logLevel: { name: 'log-level', env: 'HERALD_LOG_LEVEL', schema: logLevel.default('info'), help: 'trace, debug, info, warn, error, fatal or silent' },
} as const;

export type SpeakerFlags = FlagValues<typeof SPEAKER_FLAGS>;

export function parseSpeakerFlags(argv: readonly string[], env: NodeJS.ProcessEnv): SpeakerFlags {
  return parseFlags(SPEAKER_FLAGS, argv, env);
}
