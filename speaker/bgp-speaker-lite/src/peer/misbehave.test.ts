/**
 * BgpPeer against a scripted misbehaving peer on loopback: every malformed input earns the
 * NOTIFICATION of RFC 4271 §6 (or none, where RFC 7606 says treat-as-withdraw), the connection
 * is closed, the session comes back on the next connection, and nothing throws.
 *
 * Uncaught exceptions: Jest (circus) replaces the process's `uncaughtException` handlers while
 * a test runs and fails that test with the error, and a listener added on the test's `process`
 * never fires (it is a sandbox copy), so no listener is installed here. The same scenario is run
 * against the CLI in a child process (src/cli/main.scripted.test.ts), where a crash would be a
 * dead process.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { formatPrefix } from '../codec/prefix.js';
import { BgpPeer, type PeerDown, type PeerLogger } from './peer.js';
import { encodeMessage } from '../codec/encode.js';
import { message, MISBEHAVIOURS, ScriptedConnection, ScriptedPeer, type Misbehaviour, type ScriptedOpen } from './scripted-peer.js';

const LOCAL_ASN = 4_200_000_001;
const SCRIPT_ASN = 65_001;
const CONNECT_RETRY_MS = 200;
const PREFIX = '198.51.100.7/32';

const scriptOpen = (holdTime = 9): ScriptedOpen => ({ asn: SCRIPT_ASN, bgpId: '10.0.0.2', holdTime });

// ---- driver -----------------------------------------------------------------------------------

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const hex = (data: Uint8Array | undefined): number[] => Array.from(data ?? []);

interface Rig {
  readonly script: ScriptedPeer;
  readonly peer: BgpPeer;
  readonly downs: PeerDown[];
  readonly logLines: string[];
}

async function rig(): Promise<Rig> {
  const script = await ScriptedPeer.listen();
  const logLines: string[] = [];
  const log: PeerLogger = {
    info: (fields, msg) => logLines.push(`${msg} ${JSON.stringify(fields)}`),
    warn: (fields, msg) => logLines.push(`WARN ${msg} ${JSON.stringify(fields)}`),
  };
  const peer = new BgpPeer({
    localAsn: LOCAL_ASN,
    peerAsn: SCRIPT_ASN,
    peerAddress: '127.0.0.1',
    port: script.port,
    routerId: '10.0.0.1',
    holdTimeSec: 9,
    connectRetryMs: CONNECT_RETRY_MS,
    families: ['ipv4'],
    log,
  });
  peer.setRoutes([{ prefix: PREFIX, nextHop: '192.0.2.10' }]);
  const downs: PeerDown[] = [];
  peer.on('down', (d) => downs.push(d));
  return { script, peer, downs, logLines };
}

/** A fresh Established session with our route advertised on it; the scripted side's end. */
async function establish(r: Rig, holdTime?: number): Promise<ScriptedConnection> {
  const conn = await r.script.acceptSession(scriptOpen(holdTime));
  await waitFor('BgpPeer Established', () => r.peer.state === 'Established');
  const advertised = await conn.expect('update');
  expect(advertised.nlri.map(formatPrefix)).toEqual([PREFIX]);
  return conn;
}

/**
 * Runs one case from a peer that is dialling: misbehave, check the outcome, then check that
 * the next connection establishes a valid session. Returns that session's connection.
 */
async function runCase(r: Rig, c: Misbehaviour): Promise<ScriptedConnection> {
  const conn = c.phase === 'established' ? await establish(r, c.holdTime) : await r.script.accept();
  const downsBefore = r.downs.length;
  const receivedBefore = r.peer.counters.messagesReceived;
  await c.act(conn, scriptOpen());
  const e = c.expected;
  if ('treatAsWithdraw' in e) {
    // Once BgpPeer has read the bad UPDATE and a KEEPALIVE after it, the session is still up
    // and a KEEPALIVE of its own still flows (every hold/3 = 1 s); no NOTIFICATION, no close.
    await conn.send({ type: 'keepalive' });
    await waitFor('BgpPeer to read the UPDATE', () => r.peer.counters.messagesReceived >= receivedBefore + 2 || r.peer.state !== 'Established');
    expect(r.peer.state).toBe('Established');
    expect(conn.drain().filter((x) => x.kind !== 'message' || x.message.type === 'notification')).toEqual([]);
    await conn.expect('keepalive', 5_000);
    expect(r.peer.state).toBe('Established');
    expect(r.downs.slice(downsBefore)).toEqual([]);
    expect(conn.isClosed).toBe(false);
    return conn;
  }
  if ('notification' in e) {
    const n = await conn.expectNotification(c.holdTime === undefined ? 5_000 : c.holdTime * 1_000 + 5_000);
    const [code, subcode, data = []] = e.notification;
    expect({ code: n.code, subcode: n.subcode, data: hex(n.data) }).toEqual({ code, subcode, data });
    // RFC 4271 §6: the NOTIFICATION is followed by closing the connection.
    await waitFor('BgpPeer to close the connection', () => conn.isClosed, 5_000);
    await waitFor('down event', () => r.downs.length > downsBefore);
    const down = r.downs[downsBefore];
    expect(down?.reason).toBe(e.reason);
    expect({ code: down?.notification?.code, subcode: down?.notification?.subcode, data: hex(down?.notification?.data) }).toEqual({ code, subcode, data });
  } else {
    await waitFor('the connection to close', () => conn.isClosed, 5_000);
    expect(conn.notifications).toEqual([]);
    if (e.reason !== undefined) {
      await waitFor('down event', () => r.downs.length > downsBefore);
      expect(r.downs[downsBefore]?.reason).toBe(e.reason);
    }
  }
  // "The session recovers later": the next connection is a healthy session.
  const next = await establish(r);
  expect(r.peer.negotiated?.peerAsn).toBe(SCRIPT_ASN);
  return next;
}

async function withDiagnostics(r: Rig, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw new Error(`${String(err)}\n--- BgpPeer log\n${r.logLines.join('\n')}`, { cause: err });
  }
}

describe('BgpPeer against a scripted misbehaving peer', () => {
  let current: Rig | undefined;

  beforeEach(async () => {
    current = await rig();
  });

  afterEach(async () => {
    const r = current;
    current = undefined;
    if (r === undefined) return;
    r.peer.stop();
    await r.script.close();
  });

  const titled = MISBEHAVIOURS.map((c) => [`${c.name}, ${'treatAsWithdraw' in c.expected ? 'staying Established' : 'then re-establishes'}`, c] as const);

  it.each(titled)('%s', async (_title, c) => {
    const r = current as Rig;
    r.peer.start();
    await withDiagnostics(r, async () => {
      await runCase(r, c);
    });
  }, 30_000);

  // RFC 7313 §5: Data is the whole ROUTE-REFRESH message. 5 octets of body instead of 4.
  const badRouteRefresh = message(5, [0, 1, 0, 1, 0]);

  it('answers a 24-octet ROUTE-REFRESH with ROUTE-REFRESH Message Error (7/1) carrying the message, then re-establishes', async () => {
    const r = current as Rig;
    r.peer.start();
    await withDiagnostics(r, async () => {
      const conn = await establish(r);
      await conn.write(badRouteRefresh);
      const n = await conn.expectNotification(5_000);
      expect({ code: n.code, subcode: n.subcode, data: hex(n.data) }).toEqual({ code: 7, subcode: 1, data: Array.from(badRouteRefresh) });
      await waitFor('BgpPeer to close the connection', () => conn.isClosed, 5_000);
      await establish(r);
    });
  }, 30_000);

  // RFC 7313 §5: a bad ROUTE-REFRESH is answered with 7/1, and the down event says so.
  it('reports the ROUTE-REFRESH Message Error it sent in its down event', async () => {
    const r = current as Rig;
    r.peer.start();
    await withDiagnostics(r, async () => {
      const conn = await establish(r);
      const downsBefore = r.downs.length;
      await conn.write(badRouteRefresh);
      await conn.expectNotification(5_000);
      await waitFor('down event', () => r.downs.length > downsBefore);
      const down = r.downs[downsBefore];
      expect(down?.reason).not.toBe('tcpConnectionFails');
      expect(down?.notification).toMatchObject({ code: 7, subcode: 1 });
    });
  }, 30_000);

  it('establishes with a peer that writes its OPEN and KEEPALIVE one octet at a time', async () => {
    const r = current as Rig;
    r.peer.start();
    await withDiagnostics(r, async () => {
      const conn = await r.script.accept();
      await conn.expect('open');
      const bytes = [...encodeMessage(ScriptedConnection.open(scriptOpen()), conn.ctx), ...encodeMessage({ type: 'keepalive' }, conn.ctx)];
      for (const b of bytes) {
        await conn.write(Uint8Array.of(b));
        await new Promise((res) => setImmediate(res));
      }
      await conn.expect('keepalive');
      await waitFor('BgpPeer Established', () => r.peer.state === 'Established');
      expect(r.downs).toEqual([]);
    });
  }, 30_000);

  it('survives every misbehaviour in a row on one BgpPeer and ends Established', async () => {
    const r = current as Rig;
    r.peer.start();
    await withDiagnostics(r, async () => {
      let healthy: ScriptedConnection | undefined;
      for (const c of MISBEHAVIOURS) {
        // Each case starts from a peer that dials again: drop the previous healthy session.
        healthy?.destroy();
        healthy = await runCase(r, c);
      }
      expect(r.peer.state).toBe('Established');
      // Every session but the treat-as-withdraw ones ended exactly once.
      const ends = MISBEHAVIOURS.filter((c) => !('treatAsWithdraw' in c.expected)).length;
      expect(r.script.accepted).toBeGreaterThanOrEqual(MISBEHAVIOURS.length + ends);
    });
  }, 120_000);
});
