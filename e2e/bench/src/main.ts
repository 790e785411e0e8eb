#!/usr/bin/env node
/**
 * `npm run bench -- NAME [flags]`: runs one benchmark and prints one JSON object on stdout
 * (progress on stderr). Each benchmark measures a peer or a ceiling in the same run and
 * reports Herald's ratio to it.
 *
 * `npm run bench [-- --only a,b] [--quick]`: runs every benchmark (each as a child process),
 * saves their JSON under results/<timestamp>/ and renders report.md with SVG charts there.
 * `npm run bench -- report DIR`: renders the report again from the JSON saved in DIR.
 */
import { benchArpFlood } from './arp-flood.js';
import { benchBgp } from './bgp.js';
import { benchColdStart } from './cold-start.js';
import { benchController } from './controller.js';
import { benchL2Failover } from './l2-failover.js';
import { rerender, runAll } from './report-run.js';
import { benchSpeakerLoad } from './speaker-load.js';

const BENCHES: Record<string, (argv: string[]) => Promise<Record<string, unknown>>> = {
  'arp-flood': benchArpFlood,
  bgp: benchBgp,
  'cold-start': benchColdStart,
  controller: benchController,
  'l2-failover': benchL2Failover,
  'speaker-load': benchSpeakerLoad,
};

const USAGE = `usage: npm run bench -- ${Object.keys(BENCHES).join('|')} [flags]
       npm run bench [-- --only a,b] [--quick] [--out DIR]   every benchmark, then a report
       npm run bench -- report DIR                          the report again from DIR's JSON
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name.startsWith('--')) return runAll(argv, Object.keys(BENCHES));
  if (name === 'report') return rerender(rest);
  const bench = BENCHES[name];
  if (!bench) {
    process.stderr.write(USAGE);
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
