#!/usr/bin/env node
/**
 * `npm run bench -- NAME [flags]`: runs one benchmark and prints one JSON object
 * on stdout (progress on stderr). Each benchmark measures a peer or a ceiling in
 * the same run and reports Herald's ratio to it.
 */
import { benchBgp } from './bgp.js';
import { benchController } from './controller.js';
import { benchL2Failover } from './l2-failover.js';

const BENCHES: Record<string, (argv: string[]) => Promise<Record<string, unknown>>> = {
  bgp: benchBgp,
  controller: benchController,
  'l2-failover': benchL2Failover,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const bench = name === undefined ? undefined : BENCHES[name];
  if (!bench) {
    process.stderr.write(`usage: npm run bench -- ${Object.keys(BENCHES).join('|')} [flags]\n`);
    return 2;
  }
  const result = await bench(rest);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
