/**
 * Two BgpPeers talking to each other over loopback (127.0.0.1 and 127.0.0.2): both sides are
 * the real code path (listener, dialer, state machines, codec). Timing-loose: waits poll with
 * generous limits, and nothing asserts how fast something happened.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type * as net from 'node:net';
import { FakeClock } from '../clock.js';
import { WellKnownCommunity } from '../codec/constants.js';
import { formatPrefix } from '../codec/prefix.js';
import type { UpdateMessage } from '../codec/types.js';
import { BgpListener } from './listener.js';
import { BgpPeer, type BgpPeerOptions, type PeerDown } from './peer.js';
import { Cleanup, memoryLog, next, sleep, until } from './testing.js';

const A = { address: '127.0.0.1', asn: 64512, id: '10.0.0.1' };
const B = { address: '127.0.0.2', asn: 64513, id: '10.0.0.2' };

const cleanup = new Cleanup();
const logLines: string[] = [];
afterEach(async () => {
  logLines.length = 0;
  await cleanup.run();
}, 30_000);

async function listen(host: string): Promise<BgpListener> {
  const listener = new BgpListener({ host, port: 0, log: memoryLog(`listener ${host}`, logLines) });
  await listener.listen();
  cleanup.add(() => listener.close());
  return listener;
}

function peer(name: string, options: BgpPeerOptions): BgpPeer {
  const p = new BgpPeer({ holdTimeSec: 30, connectRetryMs: 200, connectRetryMaxMs: 2_000, log: memoryLog(name, logLines), ...options });
  cleanup.add(() => p.shutdown());
  return p;
}

/** A at 127.0.0.1 is passive on its listener; B at 127.0.0.2 dials it. */
async function passivePair(extraA: Partial<BgpPeerOptions> = {}, extraB: Partial<BgpPeerOptions> = {}): Promise<{ a: BgpPeer; b: BgpPeer; la: BgpListener }> {
  const la = await listen(A.address);
  const a = peer('A', { localAsn: A.asn, peerAsn: B.asn, routerId: A.id, peerAddress: B.address, passive: true, listener: la, ...extraA });
  const b = peer('B', { localAsn: B.asn, peerAsn: A.asn, routerId: B.id, peerAddress: A.address, localAddress: B.address, port: la.port, ...extraB });
  return { a, b, la };
}

const log = (): string => logLines.join('\n');
const bothEstablished = (a: BgpPeer, b: BgpPeer) => () => a.state === 'Established' && b.state === 'Established';
const prefixesOf = (updates: readonly UpdateMessage[]): string[] => updates.flatMap((u) => u.nlri.map(formatPrefix));
const withdrawnOf = (updates: readonly UpdateMessage[]): string[] => updates.flatMap((u) => u.withdrawn.map(formatPrefix));

describe('BgpPeer pairs on loopback', () => {
  it('establishes a passive peer (listener) with an active one, and the passive one never dials', async () => {
    const dialed: net.Socket[] = [];
    const { a, b } = await passivePair({ onSocket: (s) => dialed.push(s) });
    const received: UpdateMessage[] = [];
    a.on('update', (u) => received.push(u));
    b.setRoutes([{ prefix: '198.51.100.7/32', nextHop: '192.0.2.7' }]);
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    expect(a.connection).toMatchObject({ role: 'accepted', remoteAddress: B.address, remotePort: b.connection?.localPort });
    expect(b.connection).toMatchObject({ role: 'initiated', localAddress: B.address, remoteAddress: A.address });
    await until('the route at A', () => prefixesOf(received).includes('198.51.100.7/32'), 20_000, log);
    expect(dialed).toHaveLength(0);
    expect(a.negotiated).toMatchObject({ peerAsn: B.asn, holdTimeSec: 30 });
  }, 30_000);

  it('refuses connections from an address no peer is registered for', async () => {
    const { a, b, la } = await passivePair();
    // B dials A, but A registers for another address.
    const stranger = peer('A2', { localAsn: A.asn, peerAsn: B.asn, routerId: A.id, peerAddress: '127.0.0.3', passive: true, listener: la });
    stranger.start();
    b.start();
    await until('a refused connection', () => la.rejectedConnections > 0, 20_000, log);
    expect(b.state).not.toBe('Established');
    expect(a.state).toBe('Idle');
  }, 30_000);

  it('settles a simultaneous open (RFC 4271 §6.8) to one Established session on the connection the higher identifier initiated', async () => {
    const la = await listen(A.address);
    const lb = await listen(B.address);
    const a = peer('A', { localAsn: A.asn, peerAsn: B.asn, routerId: A.id, peerAddress: B.address, localAddress: A.address, port: lb.port, listener: la });
    const b = peer('B', { localAsn: B.asn, peerAsn: A.asn, routerId: B.id, peerAddress: A.address, localAddress: B.address, port: la.port, listener: lb });
    const downs: Array<[string, PeerDown]> = [];
    a.on('down', (d) => downs.push(['A', d]));
    b.on('down', (d) => downs.push(['B', d]));
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    // Let any late loser of the collision arrive and be dumped.
    await sleep(1_000);
    expect(bothEstablished(a, b)()).toBe(true);
    const ca = a.connection;
    const cb = b.connection;
    // The same TCP connection on both sides.
    expect(ca?.localPort).toBe(cb?.remotePort);
    expect(ca?.remotePort).toBe(cb?.localPort);
    // B (10.0.0.2) has the higher BGP Identifier, so the connection B initiated survives.
    expect(cb?.role).toBe('initiated');
    expect(ca?.role).toBe('accepted');
    expect(a.counters.collisionsResolved + b.counters.collisionsResolved).toBeGreaterThan(0);
    expect(downs.filter(([, d]) => d.from === 'Established')).toEqual([]);
  }, 30_000);

  it('on BFD Down drops an Established session at once with Cease/BFD Down, then reconnects', async () => {
    const { a, b } = await passivePair();
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    const downA = next(a, 'down');
    const downB = next(b, 'down');
    a.bfdDown();
    // Synchronous: no hold timer involved.
    expect(a.state).toBe('Idle');
    await expect(downA).resolves.toMatchObject({ from: 'Established', reason: 'bfdDown', notification: { code: 6, subcode: 10 } });
    const d = await downB;
    expect(d.from).toBe('Established');
    // The NOTIFICATION usually arrives on loopback; a dead path would give a TCP failure.
    expect(['notificationReceived', 'tcpConnectionFails']).toContain(d.reason);
    await until('re-established', bothEstablished(a, b), 20_000, log);
  }, 30_000);

  it('ignores BFD Down before the session has a connection', () => {
    const p = peer('X', { localAsn: A.asn, peerAsn: B.asn, routerId: A.id, peerAddress: B.address });
    p.bfdDown();
    expect(p.state).toBe('Idle');
  });

  it('shuts down gracefully (RFC 8326): GRACEFUL_SHUTDOWN, wait on the clock, withdraw, then Cease with the message', async () => {
    const clock = new FakeClock(0);
    // Hold time 0 (RFC 4271 §4.2): no hold or keepalive timers, so moving B's clock fires only the wait.
    const { a, b } = await passivePair({}, { clock, holdTimeSec: 0 });
    const received: UpdateMessage[] = [];
    a.on('update', (u) => received.push(u));
    const prefixes = ['198.51.100.1/32', '198.51.100.2/32'];
    b.setRoutes(prefixes.map((prefix) => ({ prefix, nextHop: '192.0.2.10', communities: ['64513:7'] })));
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    await until('initial routes', () => prefixes.every((p) => prefixesOf(received).includes(p)), 20_000, log);
    const initial = received.length;
    const downA = next(a, 'down');

    let resolved = false;
    const done = b.shutdown({ message: 'node drain', gracefulWaitMs: 60_000 }).then(() => (resolved = true));
    const gshut = (): UpdateMessage[] => received.slice(initial).filter((u) => u.attributes.communities?.includes(WellKnownCommunity.GRACEFUL_SHUTDOWN));
    await until('GRACEFUL_SHUTDOWN re-advertisement', () => prefixes.every((p) => prefixesOf(gshut()).includes(p)), 20_000, log);
    expect(gshut()[0]?.attributes.communities).toEqual([0xfc01_0007, WellKnownCommunity.GRACEFUL_SHUTDOWN]);
    await sleep(200);
    expect(withdrawnOf(received)).toEqual([]);
    expect(resolved).toBe(false);
    expect(a.state).toBe('Established');

    clock.advance(60_000);
    await done;
    expect(withdrawnOf(received).sort()).toEqual(prefixes);
    const d = await downA;
    expect(d).toMatchObject({ from: 'Established', reason: 'notificationReceived', notification: { code: 6, subcode: 2 } });
    const data = d.notification?.data ?? new Uint8Array();
    expect(new TextDecoder().decode(data.subarray(1, 1 + (data[0] ?? 0)))).toBe('node drain');
    expect(b.state).toBe('Idle');
  }, 30_000);

  it('ends a graceful shutdown at once when the session drops during the wait, and stays down', async () => {
    const clock = new FakeClock(0);
    const { a, b } = await passivePair({}, { clock });
    b.setRoutes([{ prefix: '198.51.100.1/32', nextHop: '192.0.2.10' }]);
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    const downB = next(b, 'down');
    const done = b.shutdown({ gracefulWaitMs: 60_000 });
    // B's 30 s hold timer fires first: the peer "went silent" during the wait.
    clock.advance(60_000);
    await expect(downB).resolves.toMatchObject({ from: 'Established', reason: 'holdTimerExpired' });
    await done;
    clock.advance(120_000);
    expect(b.state).toBe('Idle');
  }, 30_000);

  it('advertises Graceful Restart with the R bit only until the first Established, and reconnects promptly after a silent TCP drop', async () => {
    const sockets: net.Socket[] = [];
    const gr = { restartTimeSec: 120 };
    const { a, b } = await passivePair({ gracefulRestart: gr }, { gracefulRestart: { ...gr, restarting: true }, onSocket: (s) => sockets.push(s) });
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    expect(a.negotiated?.gracefulRestart).toEqual({ peerRestartTimeSec: 120, peerRestarting: true, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] });
    expect(b.negotiated?.gracefulRestart?.peerRestarting).toBe(false);

    const downs = [next(a, 'down'), next(b, 'down')];
    // No NOTIFICATION: the connection just dies, as when a process is killed.
    sockets.at(-1)?.destroy();
    for (const d of await Promise.all(downs)) expect(d).toMatchObject({ from: 'Established', reason: 'tcpConnectionFails' });
    await until('re-established', bothEstablished(a, b), 20_000, log);
    // RFC 4724 §4.2: the R bit is not set again once a session was Established.
    expect(a.negotiated?.gracefulRestart?.peerRestarting).toBe(false);
  }, 30_000);

  it('treats a new connection from a Graceful Restart peer whose session is Established as that peer restarting (RFC 4724 §4.2)', async () => {
    const gr = { gracefulRestart: { restartTimeSec: 120 } };
    // The old B never notices anything: its timers are on a clock that does not move.
    const { a, b, la } = await passivePair(gr, { ...gr, clock: new FakeClock(0) });
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    const oldPort = a.connection?.remotePort;
    const downA = next(a, 'down');
    const restarted = peer('B2', { localAsn: B.asn, peerAsn: A.asn, routerId: B.id, peerAddress: A.address, localAddress: B.address, port: la.port, ...gr });
    restarted.start();
    await expect(downA).resolves.toMatchObject({ from: 'Established', reason: 'tcpConnectionFails' });
    await until('A Established with the restarted B', bothEstablished(a, restarted), 20_000, log);
    expect(a.connection?.remotePort).toBe(restarted.connection?.localPort);
    expect(a.connection?.remotePort).not.toBe(oldPort);
    await until('the old connection closed', () => b.state !== 'Established', 20_000, log);
  }, 30_000);

  it('keeps an Established session and closes a second connection from a peer without Graceful Restart', async () => {
    const { a, b, la } = await passivePair();
    a.start();
    b.start();
    await until('both Established', bothEstablished(a, b), 20_000, log);
    const port = a.connection?.remotePort;
    const second = peer('B2', { localAsn: B.asn, peerAsn: A.asn, routerId: B.id, peerAddress: A.address, localAddress: B.address, port: la.port });
    const changes: string[] = [];
    second.on('state', (c) => changes.push(`${c.from}>${c.to}`));
    second.start();
    // RFC 4271 §8.2.2: the connection fails in OpenSent and the session falls back to Active.
    await until('the second connection closed', () => changes.includes('OpenSent>Active'), 20_000, log);
    await sleep(300);
    expect(a.state).toBe('Established');
    expect(a.connection?.remotePort).toBe(port);
    expect(second.state).not.toBe('Established');
  }, 30_000);
});

describe('BgpPeer reconnecting', () => {
  it('backs off exponentially between refused dials, up to connectRetryMaxMs', async () => {
    // A port nobody listens on: every dial is refused at once.
    const closed = await listen(A.address);
    const port = closed.port;
    await closed.close();
    const clock = new FakeClock(0);
    const p = peer('X', { localAsn: A.asn, peerAsn: B.asn, routerId: A.id, peerAddress: B.address, port, clock, connectRetryMs: 100, connectRetryMaxMs: 400 });
    const waits: number[] = [];
    p.start();
    for (let i = 0; i < 5; i++) {
      await until('Idle after a refused dial', () => p.state === 'Idle', 20_000, log);
      const t0 = clock.now();
      while (p.state === 'Idle') clock.advance(50);
      waits.push(clock.now() - t0);
    }
    expect(waits).toEqual([100, 200, 400, 400, 400]);
  }, 30_000);
});
