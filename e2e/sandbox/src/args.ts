/** The sandbox's command line, parsed through zod. Pure. */
import { resolve } from 'node:path';
import { z } from 'zod';

export const USAGE = [
  'usage: npm run sandbox [-- [up] [--json] [--dir DIR] [--prefix P]]',
  '       npm run sandbox -- down [--dir DIR]',
  '  up    (default) bring the real 3-node cluster up with Herald installed by its chart,',
  '        print the table, stay up until Ctrl-C or `down`',
  '  down  stop the sandbox running from DIR (from another terminal) and remove everything',
  '  --json        print the report as one JSON line instead of the table',
  '  --dir DIR     state, logs and the cluster (DIR/cluster; default /tmp/herald-sandbox)',
  '  --prefix P    the cluster\'s name prefix, [a-z][a-z0-9]{0,5} (default hsb: hsb-node-1, ..., hsb-client)',
].join('\n');

export const DEFAULT_DIR = '/tmp/herald-sandbox';
/** Distinct from the cluster CLI's `hc` and the on-cluster suite's `hoc`, so they never collide. */
export const DEFAULT_PREFIX = 'hsb';

const argsSchema = z.object({
  command: z.enum(['up', 'down']),
  json: z.boolean(),
  // DIR/cluster holds containerd's sockets, whose paths are limited (the cluster allows 60 characters).
  dir: z.string().min(1).max(52, 'at most 52 characters (the cluster lives in DIR/cluster, and Unix socket paths are short)'),
  // Linux interface names are at most 15 bytes; the cluster's longest is `<prefix>-node-3`'s veth.
  prefix: z.string().regex(/^[a-z][a-z0-9]{0,5}$/, 'want [a-z][a-z0-9]{0,5} (it prefixes network namespace and interface names)'),
});

export type Args = z.infer<typeof argsSchema>;

/** `{ ok: true, args }` or `{ ok: false, error }` (the caller prints it with {@link USAGE}). */
export function parseArgs(argv: readonly string[], cwd = process.cwd()): { ok: true; args: Args } | { ok: false; error: string } {
  const raw: Record<string, unknown> = { command: 'up', json: false, dir: DEFAULT_DIR, prefix: DEFAULT_PREFIX };
  let sawCommand = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--json' && inline === undefined) raw['json'] = true;
    else if (flag === '--dir' || flag === '--prefix') {
      const v = inline ?? argv[++i];
      if (v === undefined) return { ok: false, error: `${flag} needs a value` };
      raw[flag.slice(2)] = flag === '--dir' ? resolve(cwd, v) : v;
    } else if (!flag.startsWith('-') && !sawCommand) {
      raw['command'] = flag;
      sawCommand = true;
    } else return { ok: false, error: `unknown argument ${JSON.stringify(a)}` };
  }
  const r = argsSchema.safeParse(raw);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ') };
  return { ok: true, args: r.data };
}
