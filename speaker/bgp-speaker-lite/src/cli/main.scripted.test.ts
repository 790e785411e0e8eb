/**
 * The built CLI (`node dist/cli/main.js`) as a child process against the scripted peer on
 * loopback: flags, stdin commands and the UPDATEs they cause, and every scripted misbehaviour
 * in a row. A crash shows as a dead process, so this is where "the process never crashes" is
 * checked for real (inside Jest an uncaught exception fails the test instead).
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { shutdownCommunicationData } from '../codec/encode.js';
import { formatCommunity, formatPrefix } from '../codec/prefix.js';
import { MISBEHAVIOURS, ScriptedPeer, type ScriptedConnection, type ScriptedOpen } from '../peer/scripted-peer.js';
import { CliProcess, ensureBuilt, type CliEvent } from './cli-process.js';

const LOCAL_ASN = 4_200_000_001;
const SCRIPT_ASN = 65_001;
const PREFIX = '198.51.100.7/32';
const NEXT_HOP = '192.0.2.10';

const scriptOpen = (holdTime = 9): ScriptedOpen => ({ asn: SCRIPT_ASN, bgpId: '10.0.0.2', holdTime });

const flags = (port: number, ...extra: string[]): string[] => [
  'peer',
  '--peer-address',
  '127.0.0.1',
  '--port',
  String(port),
  '--peer-asn',
  String(SCRIPT_ASN),
  '--local-asn',
  String(LOCAL_ASN),
  '--router-id',
  '10.0.0.1',
  '--hold-time',
  '9',
  '--connect-retry-ms',
  '200',
  ...extra,
];

const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');
/** Messages the CLI's peer has read, from `show`. */
const received = async (c: CliProcess): Promise<number> => ((await c.show()).counters as { messagesReceived: number }).messagesReceived;
const isDown = (reason: unknown) => (e: CliEvent) => e.event === 'down' && e.reason === reason;

async function waitUntil(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  await ensureBuilt();
}, 200_000);

describe('bgp-lite flags', () => {
  const runToExit = async (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const cli = CliProcess.start(args);
    const timer = setTimeout(() => cli.child.kill('SIGKILL'), 10_000);
    const { code } = await cli.exited;
    clearTimeout(timer);
    return { code, stdout: cli.events.map((e) => JSON.stringify(e)).join('\n') + cli.junk.join('\n'), stderr: cli.stderr };
  };

  it.each([
    ['no command', [], /missing command/],
    ['an unknown command', ['speak'], /unknown command "speak"/],
    ['a missing --peer-address', ['peer', '--peer-asn', '1', '--local-asn', '2', '--router-id', '10.0.0.1'], /--peer-address is required/],
    ['AS 0', flags(179, '--peer-asn', '0'), /--peer-asn: want an integer 1\.\.4294967295, got "0"/],
    ['hold time 2', flags(179, '--hold-time', '2'), /--hold-time: must be 0 or at least 3/],
    ['router id 0.0.0.0', flags(179, '--router-id', '0.0.0.0'), /--router-id: want a non-zero dotted quad/],
    ['a route without next hop', flags(179, '--announce', '10.0.0.1/32'), /needs a next hop/],
    ['an IPv6 route without --ipv6', flags(179, '--announce', '2001:db8::/64,nexthop=2001:db8::1'), /ipv6 is not negotiated \(add --ipv6\)/],
    ['an unknown flag', flags(179, '--frobnicate'), /Unknown option '--frobnicate'/],
  ])('exits 2 with a one-line reason on stderr for %s', async (_what, args, reason) => {
    const { code, stdout, stderr } = await runToExit(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(reason);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 15_000);

  it('prints the usage and exits 0 on --help', async () => {
    const cli = CliProcess.start(['--help']);
    expect((await cli.exited).code).toBe(0);
    expect(cli.junk[0]).toMatch(/^usage: bgp-lite peer/);
  }, 15_000);
});

describe('bgp-lite against a scripted peer', () => {
  let script: ScriptedPeer | undefined;
  let cli: CliProcess | undefined;

  afterEach(async () => {
    await cli?.stop();
    await script?.close();
    cli = undefined;
    script = undefined;
  });

  /** A session with the CLI: the handshake done and its `established` event seen. */
  const establish = async (s: ScriptedPeer, c: CliProcess, holdTime?: number): Promise<ScriptedConnection> => {
    const from = c.events.length;
    const conn = await s.acceptSession(scriptOpen(holdTime));
    await c.waitFor('established', (e) => e.event === 'established', from);
    return conn;
  };

  it('announces and withdraws on stdin commands, reports errors and keeps running, and quits with a Cease', async () => {
    const s = await ScriptedPeer.listen();
    script = s;
    const c = CliProcess.start(flags(s.port));
    cli = c;
    try {
      const conn = await establish(s, c);
      expect(await c.waitFor('established', (e) => e.event === 'established')).toMatchObject({ peerAsn: SCRIPT_ASN, holdTimeSec: 9, families: ['ipv4-unicast'] });
      await conn.expect('update'); // End-of-RIB: nothing announced yet

      c.send(`announce ${PREFIX} nexthop ${NEXT_HOP} community 65535:0 large ${LOCAL_ASN}:1:2 med 5`);
      const announced = await conn.expect('update');
      expect(announced.nlri.map(formatPrefix)).toEqual([PREFIX]);
      expect(announced.attributes).toMatchObject({ nextHop: NEXT_HOP, med: 5, asPath: [{ type: 'sequence', asns: [LOCAL_ASN] }], largeCommunities: [[LOCAL_ASN, 1, 2]] });
      expect(announced.attributes.communities?.map(formatCommunity)).toEqual(['65535:0']);
      expect(await c.waitFor('announce', (e) => e.event === 'announce')).toMatchObject({ prefix: PREFIX, sent: true, announced: 1 });

      let from = c.events.length;
      c.send('announce 10.0.0.0/8 nexthop');
      c.send('withdraw 203.0.113.1/32');
      c.send('frobnicate');
      await c.waitFor('3 errors', () => c.events.slice(from).filter((e) => e.event === 'error').length === 3, from);
      expect(c.events.slice(from).map((e) => e.error)).toEqual([
        'announce 10.0.0.0/8: nexthop needs a value',
        'withdraw 203.0.113.1/32: not announced',
        'unknown command "frobnicate" (want announce, withdraw, show, help, quit)',
      ]);

      const shown = await c.show();
      expect(shown).toMatchObject({
        state: 'Established',
        negotiated: { peerAsn: SCRIPT_ASN, peerBgpId: '10.0.0.2', fourOctetAsn: true },
        routes: [{ prefix: PREFIX, nextHop: NEXT_HOP, communities: ['65535:0'], largeCommunities: [`${LOCAL_ASN}:1:2`], med: 5 }],
      });
      expect(shown.counters).toMatchObject({ updatesSent: 2, prefixesAdvertised: 1 });

      c.send(`withdraw ${PREFIX}`);
      const withdrawn = await conn.expect('update');
      expect(withdrawn.withdrawn.map(formatPrefix)).toEqual([PREFIX]);
      expect(withdrawn.nlri).toEqual([]);

      from = c.events.length;
      c.send('quit maintenance window');
      const cease = await conn.expectNotification();
      expect({ code: cease.code, subcode: cease.subcode, data: hex(cease.data) }).toEqual({ code: 6, subcode: 2, data: hex(shutdownCommunicationData('maintenance window')) });
      expect((await c.exited).code).toBe(0);
      expect(c.events.slice(from).map((e) => e.event)).toEqual(expect.arrayContaining(['quit', 'down']));
      expect(c.junk).toEqual([]);
    } catch (err) {
      throw new Error(`${String(err)}\n${c.transcript()}`, { cause: err });
    }
  }, 60_000);

  it('keeps the process alive through every scripted misbehaviour, reports each NOTIFICATION and re-establishes', async () => {
    const s = await ScriptedPeer.listen();
    script = s;
    const c = CliProcess.start(flags(s.port, '--announce', `${PREFIX},nexthop=${NEXT_HOP}`));
    cli = c;
    try {
      let healthy: ScriptedConnection | undefined;
      for (const m of MISBEHAVIOURS) {
        healthy?.destroy();
        const conn = m.phase === 'established' ? await establish(s, c, m.holdTime) : await s.accept();
        const from = c.events.length;
        const before = 'treatAsWithdraw' in m.expected ? await received(c) : 0;
        await m.act(conn, scriptOpen());
        const e = m.expected;
        if ('treatAsWithdraw' in e) {
          await conn.send({ type: 'keepalive' });
          await waitUntil(`${m.name}: the CLI to read the UPDATE`, async () => (await received(c)) >= before + 2 || c.peerState !== 'Established');
          expect((await c.show()).state).toBe('Established');
          expect(conn.drain().filter((x) => x.kind !== 'message' || x.message.type === 'notification')).toEqual([]);
          await conn.expect('keepalive', 5_000);
          expect(c.events.slice(from).filter((x) => x.event === 'down')).toEqual([]);
          healthy = conn;
          continue;
        }
        if ('notification' in e) {
          const n = await conn.expectNotification(m.holdTime === undefined ? 5_000 : m.holdTime * 1_000 + 5_000);
          const [code, subcode, data = []] = e.notification;
          expect({ case: m.name, code: n.code, subcode: n.subcode, data: hex(n.data) }).toEqual({ case: m.name, code, subcode, data: hex(Uint8Array.from(data)) });
          const down = await c.waitFor(`${m.name}: down`, isDown(e.reason), from);
          expect(down.notification).toMatchObject({ code, subcode });
        } else {
          await waitUntil(`${m.name}: the connection to close`, () => conn.isClosed, 5_000);
          expect(conn.notifications).toEqual([]);
          if (e.reason !== undefined) await c.waitFor(`${m.name}: down`, isDown(e.reason), from);
        }
        healthy = await establish(s, c);
        const advertised = await healthy.expect('update');
        expect(advertised.nlri.map(formatPrefix)).toEqual([PREFIX]);
        expect(c.running).toBe(true);
      }
      c.send('quit');
      expect((await c.exited).code).toBe(0);
      expect(c.junk).toEqual([]);
      // Every stderr line is a JSON log line: no stack trace, no warning from Node.
      for (const text of c.stderr.trimEnd().split('\n')) expect(() => JSON.parse(text) as unknown).not.toThrow();
    } catch (err) {
      throw new Error(`${String(err)}\n${c.transcript()}`, { cause: err });
    }
  }, 180_000);
});
