/**
 * TCP MD5 (RFC 2385) and GTSM (RFC 5082) with the real kernel options, set through
 * `@herald/native` (a dev dependency: the package itself never loads native code). Proven
 * between two BgpPeers and against a real gobgpd (`auth-password`), on loopback.
 *
 * "Never Established" cannot be proven by waiting forever: those tests watch for a few seconds
 * of connect retries (the kernel drops every segment with a wrong or missing signature) and
 * then check that the same setup with the right key does establish.
 *
 * Skips itself, with a note on stderr, when the native addon is not built (`npm run build` in
 * speaker/native) or, for the gobgpd part, when `gobgpd`/`gobgp` are not installed.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { BgpListener } from './listener.js';
import { BgpPeer, type BgpPeerOptions } from './peer.js';
import type { SocketSecurity } from './socket-security.js';
import { gobgpInstalled, startGobgpd, type Gobgpd } from './gobgpd-testing.js';
import { Cleanup, memoryLog, sleep, until } from './testing.js';

let security: SocketSecurity | undefined;
let nativeProblem = '';
try {
  const native = await import('@herald/native');
  security = { setMd5: native.setTcpMd5, setTtl: native.setTtl, setMinTtl: native.setMinTtl };
} catch (err) {
  nativeProblem = String(err);
}
if (security === undefined) process.stderr.write(`security.gobgp.test: skipped, @herald/native not loadable (${nativeProblem})\n`);

const gobgpAvailable = gobgpInstalled;
if (security !== undefined && !gobgpAvailable) process.stderr.write('security.gobgp.test: gobgpd part skipped, gobgpd/gobgp not installed\n');

const suite = security === undefined ? describe.skip : describe;
const gobgpSuite = security === undefined || !gobgpAvailable ? describe.skip : describe;

const A = { address: '127.0.0.1', asn: 64512, id: '10.0.0.1' };
const B = { address: '127.0.0.2', asn: 64513, id: '10.0.0.2' };
/** Connect retries watched before concluding a session does not come up. */
const WATCH_MS = 4_000;

const cleanup = new Cleanup();
const logLines: string[] = [];
afterEach(async () => {
  logLines.length = 0;
  await cleanup.run();
}, 30_000);
const log = (): string => logLines.join('\n');

async function listen(host: string): Promise<BgpListener> {
  const listener = new BgpListener({ host, port: 0, ...(security !== undefined ? { socketSecurity: security } : {}), log: memoryLog(`listener ${host}`, logLines) });
  await listener.listen();
  cleanup.add(() => listener.close());
  return listener;
}

function peer(name: string, options: BgpPeerOptions): BgpPeer {
  const p = new BgpPeer({
    holdTimeSec: 30,
    connectRetryMs: 300,
    connectRetryMaxMs: 1_000,
    ...(security !== undefined ? { socketSecurity: security } : {}),
    log: memoryLog(name, logLines),
    ...options,
  });
  cleanup.add(() => p.shutdown());
  return p;
}

/** A passive at 127.0.0.1 behind a listener, B at 127.0.0.2 dialing it; `a` and `b` add options. */
async function pair(a: Partial<BgpPeerOptions>, b: Partial<BgpPeerOptions>): Promise<{ pa: BgpPeer; pb: BgpPeer; la: BgpListener }> {
  const la = await listen(A.address);
  const pa = peer('A', { localAsn: A.asn, peerAsn: B.asn, routerId: A.id, peerAddress: B.address, passive: true, listener: la, ...a });
  const pb = peer('B', { localAsn: B.asn, peerAsn: A.asn, routerId: B.id, peerAddress: A.address, localAddress: B.address, port: la.port, ...b });
  pa.start();
  pb.start();
  return { pa, pb, la };
}

const established = (...peers: BgpPeer[]) => () => peers.every((p) => p.state === 'Established');

/** Watches `peers` for WATCH_MS; fails if any reaches OpenSent or beyond. */
async function neverConnects(...peers: BgpPeer[]): Promise<void> {
  const reached: string[] = [];
  for (const p of peers) p.on('state', (c) => c.to === 'OpenSent' && reached.push(c.to));
  await sleep(WATCH_MS);
  expect(reached).toEqual([]);
  for (const p of peers) expect(p.state).not.toBe('Established');
}

suite('TCP MD5 and GTSM between two BgpPeers (real kernel options)', () => {
  it('establishes with the same MD5 key on both sides', async () => {
    const { pa, pb } = await pair({ password: 'herald-md5' }, { password: 'herald-md5' });
    await until('Established with MD5', established(pa, pb), 20_000, log);
  }, 30_000);

  it('never gets a TCP connection through with a different key, nor without one', async () => {
    const wrong = await pair({ password: 'herald-md5' }, { password: 'not-the-key' });
    await neverConnects(wrong.pa, wrong.pb);
    // Dropped by the kernel: the listener never even saw a connection.
    expect(wrong.la.rejectedConnections).toBe(0);
    await cleanup.run();
    const unsigned = await pair({ password: 'herald-md5' }, {});
    await neverConnects(unsigned.pa, unsigned.pb);
  }, 30_000);

  it('GTSM: establishes when both send with TTL 255, and not when the sender uses a lower TTL', async () => {
    const ok = await pair({ minTtl: 255 }, { minTtl: 255 });
    await until('Established with GTSM', established(ok.pa, ok.pb), 20_000, log);
    await cleanup.run();
    // Loopback does not decrement the TTL: 254 stands for a peer one hop away.
    const far = await pair({ minTtl: 255 }, { ttl: 254 });
    await sleep(WATCH_MS);
    expect(far.pa.state).not.toBe('Established');
    expect(far.pb.state).not.toBe('Established');
  }, 30_000);
});

// ---- gobgpd -------------------------------------------------------------------------------

const GOBGP_ASN = 64_600;

/** Starts gobgpd with one neighbour, 127.0.0.1 (us); stopped by the test's cleanup. */
async function gobgpd(neighbor: { peerAsn: number; password: string; passive: boolean; remotePort?: number }): Promise<Gobgpd> {
  const g = await startGobgpd({ asn: GOBGP_ASN, neighborAsn: neighbor.peerAsn, password: neighbor.password, passive: neighbor.passive, ...(neighbor.remotePort !== undefined ? { remotePort: neighbor.remotePort } : {}) });
  cleanup.add(() => g.stop());
  return g;
}

async function untilGobgp(what: string, g: Gobgpd, want: (state: number | undefined) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!want(await g.state())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- peer log\n${log()}\n--- gobgpd\n${g.output()}`);
    await sleep(200);
  }
}

gobgpSuite('TCP MD5 against gobgpd', () => {
  it('establishes with the key gobgpd has (auth-password) and never with another', async () => {
    const g = await gobgpd({ peerAsn: A.asn, password: 'gobgp-md5', passive: true });
    const options = { localAsn: A.asn, peerAsn: GOBGP_ASN, routerId: A.id, peerAddress: '127.0.0.1', localAddress: '127.0.0.1', port: g.bgpPort };
    const wrong = peer('wrong', { ...options, password: 'wrong-key' });
    wrong.start();
    await neverConnects(wrong);
    expect(await g.state()).not.toBe(6);
    await wrong.shutdown();

    const right = peer('right', { ...options, password: 'gobgp-md5' });
    right.start();
    await until('Established with gobgpd', established(right), 20_000, () => `${log()}\n--- gobgpd\n${g.output()}`);
    await untilGobgp('gobgpd Established', g, (s) => s === 6);
  }, 40_000);

  it('accepts gobgpd dialing our MD5-keyed listener', async () => {
    const la = await listen('127.0.0.1');
    const g = await gobgpd({ peerAsn: A.asn, password: 'gobgp-md5', passive: false, remotePort: la.port });
    const p = peer('passive', { localAsn: A.asn, peerAsn: GOBGP_ASN, routerId: A.id, peerAddress: '127.0.0.1', passive: true, listener: la, password: 'gobgp-md5' });
    p.start();
    // GoBGP retries its connection no faster than every few seconds.
    await until('Established with gobgpd dialing us', established(p), 30_000, () => `${log()}\n--- gobgpd\n${g.output()}`);
    expect(p.connection?.role).toBe('accepted');
    await untilGobgp('gobgpd Established', g, (s) => s === 6);
  }, 45_000);
});
