/**
 * The command line: `herald [flags] COMMAND [ARGS] [flags]`, parsed into a {@link Command}
 * and validated with zod. Pure: argv and the environment in, a command or a UsageError out.
 * @packageDocumentation
 */
import { z } from 'zod';
import { dnsLabel, loadBalancerClass } from '@herald/shared/cli';
import { UsageError } from './errors.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** Flags every command that talks to the cluster understands. */
export interface GlobalOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Herald's namespace (pools, advertisements, speaker Leases, status objects). */
  readonly namespace: string;
  readonly output: OutputFormat;
  /** The controller's and speakers' --lb-class; unset: Services without a class. */
  readonly lbClass?: string;
  /** Deadline of each API request. */
  readonly timeoutMs: number;
}

export type Command =
  | { readonly name: 'help'; readonly topic?: CommandName }
  | { readonly name: 'status'; readonly opts: GlobalOptions }
  | { readonly name: 'explain'; readonly opts: GlobalOptions; readonly service: { readonly namespace: string; readonly name: string } }
  | { readonly name: 'import-metallb'; readonly opts: GlobalOptions; readonly source: { readonly file: string } | { readonly fromCluster: true } };

export const COMMANDS = ['status', 'explain', 'import-metallb'] as const;
export type CommandName = (typeof COMMANDS)[number];

export const DEFAULT_NAMESPACE = 'herald-system';
const DEFAULT_TIMEOUT_MS = 10_000;

interface FlagDef {
  readonly long: string;
  readonly short?: string;
  readonly boolean?: boolean;
  /** Commands that accept it; undefined: all. */
  readonly only?: readonly CommandName[];
}

const FLAGS: readonly FlagDef[] = [
  { long: 'kubeconfig' },
  { long: 'context' },
  { long: 'namespace', short: 'n' },
  { long: 'output', short: 'o' },
  { long: 'lb-class' },
  { long: 'request-timeout' },
  { long: 'filename', short: 'f', only: ['import-metallb'] },
  { long: 'from-cluster', boolean: true, only: ['import-metallb'] },
  { long: 'help', short: 'h', boolean: true },
];

const byLong = new Map(FLAGS.map((f) => [f.long, f]));
const byShort = new Map(FLAGS.filter((f) => f.short !== undefined).map((f) => [f.short ?? '', f]));

/** `10s`, `500ms`, `1m`, or a bare number of seconds. */
const timeoutSchema = z
  .string()
  .regex(/^\d+(ms|s|m)?$/, 'expected a duration such as 10s, 500ms or 1m')
  .transform((s) => {
    const n = Number(/^\d+/.exec(s)?.[0] ?? '0');
    if (s.endsWith('ms')) return n;
    if (s.endsWith('m')) return n * 60_000;
    return n * 1000;
  })
  .refine((ms) => ms > 0, 'must be more than 0');

const outputSchema = z.enum(['table', 'json', 'yaml'], { error: 'expected table, json or yaml' });

/** Splits argv into positionals and flag values (last one wins), checking names only. */
function tokenize(argv: readonly string[]): { positionals: string[]; values: Map<string, string>; seen: string[] } {
  const positionals: string[] = [];
  const values = new Map<string, string>();
  const seen: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    let def: FlagDef | undefined;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      def = byLong.get(name);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      shown = `--${name}`;
    } else {
      // -n NS, -nNS, -n=NS (kubectl accepts all three)
      def = byShort.get(arg.slice(1, 2));
      const rest = arg.slice(2);
      inline = rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest;
      shown = `-${arg.slice(1, 2)}`;
    }
    if (def === undefined) throw new UsageError(`unknown flag ${shown}`);
    seen.push(def.long);
    if (def.boolean) {
      if (inline !== undefined && !['true', 'false'].includes(inline)) throw new UsageError(`${shown} takes no value other than true or false, got "${inline}"`);
      values.set(def.long, inline ?? 'true');
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) throw new UsageError(`flag ${shown} needs a value`);
      inline = next;
      i++;
    }
    values.set(def.long, inline);
  }
  return { positionals, values, seen };
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(`${what}: ${r.error.issues[0]?.message ?? 'invalid'}${typeof value === 'string' ? ` (got "${value}")` : ''}`);
  return r.data;
}

function globalOptions(values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv, defaultOutput: OutputFormat): GlobalOptions {
  const kubeconfig = values.get('kubeconfig');
  const context = values.get('context');
  const lbClassText = values.get('lb-class');
  const nsText = values.get('namespace') ?? env['HERALD_NAMESPACE'] ?? DEFAULT_NAMESPACE;
  const timeoutText = values.get('request-timeout');
  if (kubeconfig === '') throw new UsageError('--kubeconfig: must not be empty');
  if (context === '') throw new UsageError('--context: must not be empty');
  return {
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    ...(context === undefined ? {} : { context }),
    namespace: check(dnsLabel, nsText, values.has('namespace') ? '--namespace' : env['HERALD_NAMESPACE'] !== undefined ? 'HERALD_NAMESPACE' : '--namespace'),
    output: values.has('output') ? check(outputSchema, values.get('output'), '--output') : defaultOutput,
    ...(lbClassText === undefined ? {} : { lbClass: check(loadBalancerClass, lbClassText, '--lb-class') }),
    timeoutMs: timeoutText === undefined ? DEFAULT_TIMEOUT_MS : check(timeoutSchema, timeoutText, '--request-timeout'),
  };
}

/** `NAMESPACE/SERVICE`, both DNS-1123 labels. */
export function parseServiceRef(text: string): { namespace: string; name: string } {
  const parts = text.split('/');
  if (parts.length !== 2) throw new UsageError(`expected NAMESPACE/SERVICE, got "${text}"`);
  const [namespace = '', name = ''] = parts;
  return { namespace: check(dnsLabel, namespace, 'namespace of NAMESPACE/SERVICE'), name: check(dnsLabel, name, 'name of NAMESPACE/SERVICE') };
}

/** Parses `herald`'s arguments (without the node and script paths). Throws {@link UsageError}. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const { positionals, values, seen } = tokenize(argv);
  const [first, ...rest] = positionals;
  if (first === undefined) {
    if (values.has('help')) return { name: 'help' };
    throw new UsageError('no command given');
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { name: 'help' };
    const known = COMMANDS.find((c) => c === topic);
    if (known === undefined) throw new UsageError(`unknown command "${topic}"`);
    return { name: 'help', topic: known };
  }
  const command = COMMANDS.find((c) => c === first);
  if (command === undefined) throw new UsageError(`unknown command "${first}"`);
  if (values.has('help')) return { name: 'help', topic: command };
  for (const long of seen) {
    const def = byLong.get(long);
    if (def?.only !== undefined && !def.only.includes(command)) throw new UsageError(`flag --${long} applies only to ${def.only.join(', ')}`);
  }
  return commandFor(command, rest, values, env);
}

function commandFor(command: CommandName, rest: readonly string[], values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): Command {
  switch (command) {
    case 'status': {
      if (rest.length > 0) throw new UsageError(`status takes no arguments, got "${rest.join(' ')}"`);
      return { name: 'status', opts: globalOptions(values, env, 'table') };
    }
    case 'explain': {
      if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'explain needs NAMESPACE/SERVICE' : `explain takes one NAMESPACE/SERVICE, got "${rest.join(' ')}"`);
      return { name: 'explain', opts: globalOptions(values, env, 'table'), service: parseServiceRef(rest[0] ?? '') };
    }
    case 'import-metallb': {
      if (rest.length > 0) throw new UsageError(`import-metallb takes no arguments, got "${rest.join(' ')}" (use -f FILE)`);
      const opts = globalOptions(values, env, 'yaml');
      if (opts.output === 'table') throw new UsageError('--output: import-metallb writes yaml or json');
      const file = values.get('filename');
      const fromCluster = values.get('from-cluster') === 'true';
      if ((file === undefined) === !fromCluster) throw new UsageError('import-metallb needs exactly one of -f FILE (- for stdin) and --from-cluster');
      return { name: 'import-metallb', opts, source: file !== undefined ? { file } : { fromCluster: true } };
    }
  }
}

/** `herald --help` and `herald help COMMAND`. */
export function helpText(topic?: CommandName): string {
  switch (topic) {
    case 'status':
      return STATUS_HELP;
    case 'explain':
      return EXPLAIN_HELP;
    case 'import-metallb':
      return IMPORT_HELP;
    default:
      return MAIN_HELP;
  }
}

const GLOBAL_FLAGS = `Flags:
  --kubeconfig PATH        kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)
  --context NAME           kubeconfig context to use (default: its current context)
  -n, --namespace NS       Herald's namespace (default: $HERALD_NAMESPACE, else ${DEFAULT_NAMESPACE})
  -o, --output FORMAT      table, json or yaml
  --lb-class CLASS         the --lb-class Herald runs with (default: Services without a loadBalancerClass)
  --request-timeout DUR    deadline of each API request, e.g. 10s (default 10s)
  -h, --help               this help`;

const EXIT_CODES = `Exit codes:
  0  done, and what was asked about is healthy
  1  done, but unhealthy: status found a problem; explain's Service has no IP, is not
     Herald's, or no node reports announcing it; import-metallb could not convert
     something exactly (see stderr)
  2  usage error: unknown command or flag, bad flag value, malformed input YAML
  3  cannot reach or read the API (connection, kubeconfig, permission, timeout), or the
     object asked about does not exist (Service, Herald's namespace, -f FILE, metallb.io CRDs)
  4  internal error (a bug in herald)
Errors are one line on stderr starting with "herald: ".`;

const MAIN_HELP = `herald: inspect Herald, the bare-metal LoadBalancer provider (also runs as "kubectl herald")

Usage:
  herald status [flags]                       pools, Services, announcements, BGP sessions
  herald explain NAMESPACE/SERVICE [flags]    why a Service has no IP, or who announces it and why others don't
  herald import-metallb (-f FILE | --from-cluster) [flags]
                                              convert metallb.io resources to herald.io YAML on stdout
  herald help COMMAND                         help for one command

${GLOBAL_FLAGS}

${EXIT_CODES}`;

const STATUS_HELP = `herald status: the state of Herald in one view

Usage: herald status [flags]

Shows IPAddressPools with their use per family (from the pools' status), LoadBalancer
Services handled by Herald with their IPs, pool, mode (L2/BGP), announcing nodes and BGP
peers (from ServiceL2Status and ServiceBGPStatus), and every BGPSessionState.

${GLOBAL_FLAGS}

Exit codes: 0 no problem found; 1 a problem is listed under PROBLEMS (an invalid pool, a
Service without an IP or that no node announces, a BGP session not Established or its BFD
not Up); 2 usage; 3 API unreachable or Herald's namespace missing; 4 bug.`;

const EXPLAIN_HELP = `herald explain: why a Service has no IP, or who announces it and why the others don't

Usage: herald explain NAMESPACE/SERVICE [flags]

Replays the controller's allocator on the cluster's current state to say which pools were
considered and why each was refused, and the speaker's L2 and BGP planners to say which node
announces each IP and why every other node does not. Speaker liveness is read from the
speakers' Leases (herald-speaker-NODE, fresh while renewTime + leaseDurationSeconds is in
the future); the speakers' own gossip view is not visible from outside. Also shows the
Service's herald.io/AddressAssigned condition and its recent Events.

${GLOBAL_FLAGS}

Exit codes: 0 the Service has its IPs and at least one node reports announcing it
(ServiceL2Status or ServiceBGPStatus); 1 the explanation was printed but the Service has
no IP, is not handled by Herald (not type LoadBalancer, another loadBalancerClass), or no
node reports announcing it; 2 usage; 3 the Service or Herald's namespace does not exist, or
the API is unreachable; 4 bug.`;

const IMPORT_HELP = `herald import-metallb: convert MetalLB's configuration to Herald's

Usage:
  herald import-metallb -f FILE [flags]          FILE is multi-document YAML (or a List); - reads stdin
  herald import-metallb --from-cluster [flags]   reads the metallb.io resources of the cluster

Converts metallb.io IPAddressPool, L2Advertisement, BGPAdvertisement, BFDProfile, Community
(v1beta1) and BGPPeer (v1beta1, v1beta2) into herald.io/v1beta1 objects in Herald's namespace
(-n), and the deprecated v1beta1 AddressPool into an IPAddressPool plus its advertisements.
Each result is validated with Herald's schemas. YAML (or -o json, a List) goes to stdout;
every problem goes to stderr, one line each, as "herald: SEVERITY: KIND NAMESPACE/NAME: what":
  error    not converted (Herald refuses a value, unknown kind or version, duplicate name)
  warning  converted, but not exactly: a field Herald lacks was dropped, or a reference
           needs action (a Secret in another namespace)
  note     nothing lost: status kinds and non-metallb.io objects skipped, deprecated kinds
Flags -f/--filename and --from-cluster apply to this command only.

${GLOBAL_FLAGS}

Exit codes: 0 everything converted exactly (notes only); 1 at least one error or warning
(the YAML still holds everything that converted); 2 usage or malformed YAML; 3 FILE not
found, API unreachable, or no metallb.io CRDs in the cluster (--from-cluster); 4 bug.`;
