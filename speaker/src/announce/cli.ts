/**
 * `node dist/announce/cli.js --ifname eth0 --ip 192.0.2.100 --ip 2001:db8::100 [--log-level info]`
 *
 * Announces the given addresses on one interface until SIGTERM or SIGINT, with no
 * Kubernetes and no election: a test and debugging tool for {@link L2Announcer}. Logs
 * pino JSON to stdout; `{"event":"ready"}` means the sockets are open and the
 * solicited-node groups joined. Exits 2 on bad flags, 1 if announcing fails.
 */
import { createLogger, errorMessage, systemClock } from '@herald/shared/core';
import { logLevel } from '@herald/shared/cli';
import { formatIP, parseIP, type IP } from '@herald/shared/ip';
import { z } from 'zod';
import { L2Announcer } from './announcer.js';

const USAGE = 'usage: cli.js --ifname IF --ip ADDR [--ip ADDR ...] [--log-level LEVEL]';

const ipSchema = z.string().transform((s, ctx): IP => {
  const ip = parseIP(s);
  if (ip === undefined) {
    ctx.addIssue({ code: 'custom', message: `--ip: "${s}" is not an IP address` });
    return z.NEVER;
  }
  return ip;
});

const flagsSchema = z.object({
  // IFNAMSIZ is 16 including the NUL; '/' and whitespace are refused by the kernel.
  ifname: z.string({ error: '--ifname is required' }).regex(/^[^/\s]{1,15}$/, '--ifname: not an interface name'),
  ips: z.array(ipSchema).min(1, '--ip is required (repeat it for several addresses)'),
  logLevel: logLevel.default('info'),
});

/** Collects `--flag value` / `--flag=value`; `--ip` may repeat. */
function collect(argv: readonly string[]): Record<string, unknown> {
  const out: { ifname?: string; ips: string[]; logLevel?: string } = { ips: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const name = arg.slice(0, eq === -1 ? undefined : eq);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === '--ifname') out.ifname = value;
    else if (name === '--ip') out.ips.push(value);
    else if (name === '--log-level') out.logLevel = value;
    else throw new Error(`unknown argument "${arg}"`);
  }
  return out;
}

async function main(): Promise<number> {
  let flags: z.output<typeof flagsSchema>;
  try {
    const r = flagsSchema.safeParse(collect(process.argv.slice(2)));
    if (!r.success) throw new Error(r.error.issues[0]?.message ?? 'invalid flags');
    flags = r.data;
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger({ level: flags.logLevel, name: 'herald-announce' });
  const announcer = new L2Announcer({ ifname: flags.ifname, log, clock: systemClock });
  try {
    announcer.setOwned(flags.ips);
  } catch (err) {
    log.error({ event: 'startFailed', err: errorMessage(err) }, 'cannot announce');
    await announcer.close();
    return 1;
  }
  await announcer.settled();
  log.info({ event: 'ready', ifname: flags.ifname, ips: flags.ips.map(formatIP) }, 'announcing');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await announcer.close();
  log.info({ event: 'stopped', signal, stats: announcer.stats() }, 'stopped');
  return announcer.stats().multicastErrors === 0 ? 0 : 1;
}

process.exitCode = await main();
