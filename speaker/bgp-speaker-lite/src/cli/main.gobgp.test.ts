/**
 * The built CLI against a real GoBGP on loopback, set up as in src/peer/gobgp.netns.test.ts:
 * gobgpd bound to 127.0.0.1 on a free port, passive for our neighbour, queried with
 * `gobgp -p PORT global rib -j`. Routes are announced and withdrawn through the CLI's stdin.
 * Skips itself, with a note on stderr, when `gobgpd` or `gobgp` is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gobgpInstalled as available, startGobgpd, type Gobgpd } from '../peer/gobgpd-testing.js';
import { CliProcess, ensureBuilt } from './cli-process.js';

if (!available) process.stderr.write('cli/main.gobgp.test: skipped, gobgpd/gobgp not installed (run .ci/install-debian-packages.sh)\n');
const suite = available ? describe : describe.skip;

const LOCAL_ASN = 4_200_000_001;
const GOBGP_ASN = 64_512;
// GoBGP treats an UPDATE with a loopback next hop as a withdrawal; a documentation address is
// only data here.
const NEXT_HOP = '192.0.2.10';
const STARTUP_PREFIX = '198.51.100.9/32';
const PREFIX = '198.51.100.1/32';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RibPath {
  attrs: Array<{ type: number; nexthop?: string; communities?: number[]; value?: unknown }>;
}

suite('bgp-lite against GoBGP on loopback', () => {
  let gobgpd: Gobgpd | undefined;
  let bgpPort = 0;
  let cli: CliProcess | undefined;

  const gobgp = (...args: string[]): Promise<unknown> => (gobgpd as Gobgpd).cli(...args);
  const sessionState = (): Promise<number | undefined> => (gobgpd as Gobgpd).state();
  const rib = async (): Promise<Record<string, RibPath[]>> => ((await gobgp('global', 'rib', '-a', 'ipv4')) ?? {}) as Record<string, RibPath[]>;

  beforeAll(async () => {
    await ensureBuilt();
    gobgpd = await startGobgpd({ asn: GOBGP_ASN, neighborAsn: LOCAL_ASN });
    bgpPort = gobgpd.bgpPort;
  }, 240_000);

  afterAll(async () => {
    await cli?.stop();
    await gobgpd?.stop();
  }, 20_000);

  it('establishes, announces and withdraws a prefix from stdin, and quits with exit 0', async () => {
    const c = CliProcess.start([
      'peer',
      '--peer-address',
      '127.0.0.1',
      '--port',
      String(bgpPort),
      '--local-address',
      '127.0.0.1',
      '--peer-asn',
      String(GOBGP_ASN),
      '--local-asn',
      String(LOCAL_ASN),
      '--router-id',
      '10.255.0.2',
      '--hold-time',
      '9',
      '--connect-retry-ms',
      '200',
      '--announce',
      `${STARTUP_PREFIX},nexthop=${NEXT_HOP}`,
    ]);
    cli = c;
    try {
      expect(await c.waitFor('established', (e) => e.event === 'established', 0, 20_000)).toMatchObject({ peerAsn: GOBGP_ASN, fourOctetAsn: true });
      await waitFor('GoBGP Established', async () => ((await sessionState()) === 6 ? true : undefined));
      await waitFor(`${STARTUP_PREFIX} (from --announce) in GoBGP`, async () => ((await rib())[STARTUP_PREFIX] !== undefined ? true : undefined));

      c.send(`announce ${PREFIX} nexthop ${NEXT_HOP} community 65535:0 large ${LOCAL_ASN}:1:2`);
      const table = await waitFor(`${PREFIX} in GoBGP`, async () => {
        const t = await rib();
        return t[PREFIX] !== undefined ? t : undefined;
      });
      const attrs = table[PREFIX]?.[0]?.attrs ?? [];
      expect(attrs.find((a) => a.type === 3)?.nexthop).toBe(NEXT_HOP);
      expect(attrs.find((a) => a.type === 8)?.communities).toEqual([0xffff_0000]);
      expect(attrs.find((a) => a.type === 32)?.value).toEqual([{ ASN: LOCAL_ASN, LocalData1: 1, LocalData2: 2 }]);

      c.send('no such command');
      expect(await c.waitFor('error line', (e) => e.event === 'error')).toMatchObject({ error: expect.stringMatching(/unknown command "no"/) });
      expect((await c.show()).state).toBe('Established');

      c.send(`withdraw ${PREFIX}`);
      const after = await waitFor(`${PREFIX} withdrawn from GoBGP`, async () => {
        const t = await rib();
        return t[PREFIX] === undefined ? t : undefined;
      });
      expect(Object.keys(after)).toEqual([STARTUP_PREFIX]);

      c.send('quit cli test done');
      expect((await c.exited).code).toBe(0);
      await waitFor('GoBGP not Established', async () => ((await sessionState()) !== 6 ? true : undefined));
      await waitFor('routes gone from GoBGP', async () => (Object.keys(await rib()).length === 0 ? true : undefined));
    } catch (err) {
      throw new Error(`${String(err)}\n${c.transcript()}\n--- gobgpd log\n${gobgpd?.output() ?? ''}`, { cause: err });
    }
  }, 90_000);
});
