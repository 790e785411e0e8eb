/** The cluster CLI's argument parsing (pure; the CLI itself is cli.ts). */
import { ClusterError } from './errors.js';
import type { UpOptions } from './up.js';

export const USAGE =
  'usage: cluster up [--nodes N] [--dir DIR] [--prefix P] [--proxy-mode nftables|iptables] [--lan-subnet CIDR] [--cluster-cidr CIDR] [--service-cidr CIDR] [--no-ipv6] [--no-build] [--keep-on-failure] [--json]\n' +
  '       cluster down|status [--dir DIR] [--json] | kubectl [--dir DIR] [--] ARGS | crictl NODE [--dir DIR] [--] ARGS\n' +
  '       cluster exec HOST [--dir DIR] -- CMD ARGS | push LOCAL REPO[:TAG] [--dir DIR] | tools';

/** Flags that take a value, and the ones that do not. */
const VALUE_FLAGS = new Set(['--nodes', '--dir', '--prefix', '--proxy-mode', '--lan-subnet', '--cluster-cidr', '--service-cidr']);
const BOOL_FLAGS = new Set(['--no-build', '--no-ipv6', '--keep-on-failure', '--json']);

export interface ParsedArgs {
  readonly command: string;
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
  /** Everything after `--` (or, for kubectl and crictl, after the known flags). */
  readonly rest: string[];
}

/** Splits argv into command, flags, positionals and pass-through arguments. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...args] = argv;
  if (!command) throw new ClusterError('Usage', USAGE);
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  const passThrough = command === 'kubectl' || command === 'crictl';
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') return { command, positional, flags, rest: args.slice(i + 1) };
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (VALUE_FLAGS.has(name)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new ClusterError('Usage', `${name} needs a value\n${USAGE}`);
      flags.set(name, v);
    } else if (BOOL_FLAGS.has(name) && !passThrough) {
      flags.set(name, true);
    } else if (passThrough && (a.startsWith('-') || positional.length >= (command === 'crictl' ? 1 : 0))) {
      // kubectl's and crictl's own arguments start here.
      return { command, positional, flags, rest: args.slice(i) };
    } else if (a.startsWith('-')) {
      throw new ClusterError('Usage', `unknown flag ${a}\n${USAGE}`);
    } else {
      positional.push(a);
    }
  }
  return { command, positional, flags, rest: [] };
}

export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** `up`'s options from the parsed flags. */
export function upOptions(p: ParsedArgs): UpOptions {
  const o: UpOptions = {};
  const nodes = str(p, '--nodes');
  if (nodes !== undefined) {
    if (!/^\d+$/.test(nodes)) throw new ClusterError('Usage', `--nodes ${nodes}: want a number`);
    o.nodes = Number(nodes);
  }
  const set = <K extends keyof UpOptions>(key: K, flag: string): void => {
    const v = str(p, flag);
    if (v !== undefined) o[key] = v as UpOptions[K];
  };
  set('dir', '--dir');
  set('prefix', '--prefix');
  set('proxyMode', '--proxy-mode');
  set('lanSubnet', '--lan-subnet');
  set('clusterCidr', '--cluster-cidr');
  set('serviceCidr', '--service-cidr');
  if (p.flags.has('--no-build')) o.build = false;
  if (p.flags.has('--no-ipv6')) o.ipv6 = false;
  if (p.flags.has('--keep-on-failure')) o.keepOnFailure = true;
  return o;
}

