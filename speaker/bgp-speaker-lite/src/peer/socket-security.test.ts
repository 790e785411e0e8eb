/**
 * When and where the injected socket options are applied, with a recording fake in place of
 * the native addon (the real options are proven against the kernel in security.gobgp.test.ts).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import * as net from 'node:net';
import { BgpListener, canonicalAddress } from './listener.js';
import { BgpPeer } from './peer.js';
import { dialTcp, socketFd, type SocketSecurity } from './socket-security.js';
import { Cleanup, until } from './testing.js';

interface Call {
  readonly op: 'md5' | 'ttl' | 'minTtl';
  readonly fd: number;
  readonly arg: unknown;
}

function recorder(): { security: SocketSecurity; calls: Call[] } {
  const calls: Call[] = [];
  const security: SocketSecurity = {
    setMd5: (fd, peer, key) => void calls.push({ op: 'md5', fd, arg: [peer, key] }),
    setTtl: (fd, ttl) => void calls.push({ op: 'ttl', fd, arg: ttl }),
    setMinTtl: (fd, ttl) => void calls.push({ op: 'minTtl', fd, arg: ttl }),
  };
  return { security, calls };
}

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function server(host = '127.0.0.1'): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => {
    accepted.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const s of accepted) s.destroy();
        srv.close(() => resolve());
      }),
  );
  return { port: (srv.address() as net.AddressInfo).port, accepted };
}

describe('dialTcp', () => {
  it('sets MD5 key, TTL and minimum TTL on the socket before it connects, from the requested source address', async () => {
    const { port, accepted } = await server();
    const { security, calls } = recorder();
    const s = dialTcp({ host: '127.0.0.1', port, localAddress: '127.0.0.2', tcp: { password: 'sekrit', ttl: 255, minTtl: 254 }, security });
    cleanup.add(() => s.destroy());
    // Set synchronously, while the socket has not reached Node's deferred connect(2) yet.
    // (That the SYN really carries the signature is proven in security.gobgp.test.ts.)
    expect(calls.map((c) => c.op)).toEqual(['md5', 'ttl', 'minTtl']);
    expect(s.connecting).toBe(true);
    expect(accepted).toHaveLength(0);
    expect(calls[0]?.arg).toEqual(['127.0.0.1', 'sekrit']);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    // The options went to the very socket that connected.
    expect(calls[0]?.fd).toBe(socketFd(s));
    expect(s.localAddress).toBe('127.0.0.2');
    await until('accepted', () => accepted.length === 1);
    expect(accepted[0]?.remotePort).toBe(s.localPort);
  });

  it('defaults the TTL to 255 when only GTSM is asked for (RFC 5082 §3)', async () => {
    const { port } = await server();
    const { security, calls } = recorder();
    const s = dialTcp({ host: '127.0.0.1', port, tcp: { minTtl: 255 }, security });
    cleanup.add(() => s.destroy());
    expect(calls.map((c) => [c.op, c.arg])).toEqual([
      ['ttl', 255],
      ['minTtl', 255],
    ]);
  });

  it('never connects when an option cannot be set, and reports the error on the socket', async () => {
    const { port, accepted } = await server();
    const failing: SocketSecurity = {
      setMd5: () => {
        throw Object.assign(new Error('setsockopt TCP_MD5SIG: Operation not permitted'), { code: 'EPERM' });
      },
      setTtl: () => undefined,
      setMinTtl: () => undefined,
    };
    const s = dialTcp({ host: '127.0.0.1', port, tcp: { password: 'x' }, security: failing });
    const err = await new Promise<Error>((resolve) => s.once('error', resolve));
    expect(err.message).toMatch(/TCP_MD5SIG/);
    await new Promise((r) => setTimeout(r, 100));
    expect(accepted).toHaveLength(0);
  });

  it('connects as plain node:net when no option is asked for', async () => {
    const { port } = await server();
    const s = dialTcp({ host: '127.0.0.1', port, tcp: {} });
    cleanup.add(() => s.destroy());
    await new Promise<void>((resolve) => s.once('connect', resolve));
  });
});

describe('BgpPeer socket options', () => {
  it('refuses a password or GTSM without socketSecurity, and a passive peer without a listener', () => {
    const base = { localAsn: 64512, peerAsn: 64513, routerId: '10.0.0.1', peerAddress: '127.0.0.1' };
    expect(() => new BgpPeer({ ...base, password: 'x' })).toThrow(/socketSecurity/);
    expect(() => new BgpPeer({ ...base, minTtl: 255 })).toThrow(/socketSecurity/);
    expect(() => new BgpPeer({ ...base, passive: true })).toThrow(/listener/);
    expect(() => new BgpPeer({ ...base, peerAddress: 'router1' })).toThrow(/peerAddress/);
    expect(() => new BgpPeer({ ...base, gracefulRestart: { restartTimeSec: 4096 } })).toThrow(/restartTimeSec/);
    // TTL alone is only a restriction: without socketSecurity it is ignored, not fatal.
    expect(() => new BgpPeer({ ...base, ttl: 1 })).not.toThrow();
  });
});

describe('BgpListener', () => {
  it('keys the listening socket per attached peer (RFC 2385), sends with TTL 255, and removes the key on detach', async () => {
    const { security, calls } = recorder();
    const listener = new BgpListener({ host: '127.0.0.1', port: 0, socketSecurity: security });
    cleanup.add(() => listener.close());
    const detachEarly = listener.attach('127.0.0.2', { password: 'early', onConnection: (s) => s.destroy() });
    await listener.listen();
    const detachLate = listener.attach('::ffff:127.0.0.3', { password: 'late', onConnection: (s) => s.destroy() });
    listener.attach('127.0.0.4', { onConnection: (s) => s.destroy() });
    detachEarly();
    detachLate();
    const fd = calls[0]?.fd;
    expect(calls.every((c) => c.fd === fd)).toBe(true);
    expect(calls.map((c) => [c.op, c.arg])).toEqual([
      ['ttl', 255],
      ['md5', ['127.0.0.2', 'early']],
      ['md5', ['127.0.0.3', 'late']],
      ['md5', ['127.0.0.2', null]],
      ['md5', ['127.0.0.3', null]],
    ]);
  });

  it('refuses a second peer at the same address and a password it cannot set', () => {
    const listener = new BgpListener({ host: '127.0.0.1', port: 0 });
    listener.attach('2001:DB8::1', { onConnection: () => undefined });
    expect(() => listener.attach('2001:db8:0::1', { onConnection: () => undefined })).toThrow(/already attached/);
    expect(() => listener.attach('127.0.0.9', { password: 'x', onConnection: () => undefined })).toThrow(/socketSecurity/);
  });

  it('hands a connection to the peer registered for its address and closes others', async () => {
    const listener = new BgpListener({ host: '127.0.0.1', port: 0 });
    cleanup.add(() => listener.close());
    const handed: net.Socket[] = [];
    listener.attach('127.0.0.2', { onConnection: (s) => handed.push(s) });
    await listener.listen();
    const connect = (localAddress: string): net.Socket => {
      const s = net.connect({ host: '127.0.0.1', port: listener.port, localAddress });
      s.on('error', () => undefined);
      cleanup.add(() => s.destroy());
      return s;
    };
    const stranger = connect('127.0.0.5');
    connect('127.0.0.2');
    await until('one handed over', () => handed.length === 1);
    cleanup.add(() => handed[0]?.destroy());
    await until('the stranger closed', () => stranger.closed);
    expect(listener.rejectedConnections).toBe(1);
    expect(handed[0]?.remoteAddress).toBe('127.0.0.2');
  });

  it('matches addresses in canonical form', () => {
    expect(canonicalAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalAddress('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(canonicalAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalAddress('router1')).toBeUndefined();
  });
});
