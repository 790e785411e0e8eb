import { afterEach, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import { encodeControl } from './codec.js';
import { controlPacket, createBfdSession, type BfdSessionConfig } from './machine.js';
import { BFD_MULTI_HOP_PORT, BFD_SINGLE_HOP_PORT, BfdUdp, type BfdUdpDiscard } from './udp.js';

const config = (localDiscriminator: number): BfdSessionConfig => ({
  localDiscriminator,
  desiredMinTxUs: 20_000,
  requiredMinRxUs: 20_000,
  detectMult: 3,
});

/** Resolves with the first value `register` delivers, or rejects after `ms`. */
function waitFor<T>(register: (deliver: (value: T) => void) => void, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

const opened: BfdUdp[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

async function open(mode: 'singleHop' | 'multiHop', extra: Partial<Parameters<typeof BfdUdp.open>[0]> = {}): Promise<BfdUdp> {
  const bfd = await BfdUdp.open({ mode, localAddress: '127.0.0.1', listenPort: 0, ...extra });
  opened.push(bfd);
  return bfd;
}

describe('BfdUdp', () => {
  it('uses the RFC 5881 and RFC 5883 ports by default', () => {
    expect([BFD_SINGLE_HOP_PORT, BFD_MULTI_HOP_PORT]).toEqual([3784, 4784]);
  });

  it.each([['singleHop'], ['multiHop']] as const)(
    '%s: two sessions over loopback come Up, and closing one takes the other Down within the detection time',
    async (mode) => {
      const transmitPorts: number[] = [];
      const a = await open(mode);
      const b = await open(mode, { onSocket: (socket, role) => role === 'transmit' && transmitPorts.push(socket.address().port) });
      let onUpA: () => void = () => undefined;
      let onUpB: () => void = () => undefined;
      let onDownB: (diag: number) => void = () => undefined;
      const upA = waitFor<void>((deliver) => (onUpA = () => deliver()), 5000, 'A up');
      const upB = waitFor<void>((deliver) => (onUpB = () => deliver()), 5000, 'B up');
      await a.addSession({ peerAddress: '127.0.0.1', peerPort: b.address.port, config: config(101), onUp: () => onUpA() });
      const sessionB = await b.addSession({
        peerAddress: '127.0.0.1',
        peerPort: a.address.port,
        config: config(202),
        onUp: () => onUpB(),
        onDown: (diag) => onDownB(diag),
      });
      await Promise.all([upA, upB]);
      expect(sessionB.state).toMatchObject({ sessionState: 'Up', remoteDiscriminator: 101 });
      // RFC 5881 4: a source port from the dynamic range, kept for the session.
      expect(transmitPorts).toEqual([sessionB.sourcePort]);
      expect(sessionB.sourcePort).toBeGreaterThanOrEqual(49152);
      expect(sessionB.sourcePort).toBeLessThanOrEqual(65535);

      // Detection time at B: A's Detect Mult 3 x max(20 ms, 20 ms) = 60 ms.
      const down = waitFor<number>((deliver) => (onDownB = deliver), 2000, 'B down');
      const closedAt = Date.now();
      await a.close();
      expect(await down).toBe(1);
      expect(Date.now() - closedAt).toBeLessThan(60 + 200);
      expect(sessionB.state.remoteDiscriminator).toBe(0);
    },
  );

  it('reports datagrams that reach no session, with the reason', async () => {
    const discards: BfdUdpDiscard[] = [];
    let notify: () => void = () => undefined;
    const bfd = await open('singleHop', {
      onDiscard: (reason) => {
        discards.push(reason);
        if (discards.length === 2) notify();
      },
    });
    const both = waitFor<void>((deliver) => (notify = () => deliver()), 2000, 'two discards');
    const sender = dgram.createSocket('udp4');
    const send = (bytes: Uint8Array): Promise<void> =>
      new Promise((resolve, reject) => sender.send(bytes, bfd.address.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    try {
      await send(Uint8Array.of(0xff, 0, 0, 0));
      await send(encodeControl({ ...controlPacket(createBfdSession(config(5), 0)), state: 'Up', yourDiscriminator: 77 }));
      await both;
    } finally {
      sender.close();
    }
    expect(discards).toEqual(['badVersion', 'unknownSession']);
  });

  it('refuses a second session to the same peer or with the same discriminator', async () => {
    const bfd = await open('singleHop');
    await bfd.addSession({ peerAddress: '127.0.0.2', peerPort: 9, config: config(1), adminDown: true });
    await expect(bfd.addSession({ peerAddress: '127.0.0.2', peerPort: 9, config: config(2) })).rejects.toThrow(/exists already/);
    await expect(bfd.addSession({ peerAddress: '127.0.0.3', peerPort: 9, config: config(1) })).rejects.toThrow(/discriminator 1/);
    await expect(bfd.addSession({ peerAddress: '127.0.0.4', peerPort: 9, config: config(0) })).rejects.toThrow(RangeError);
    expect([...bfd.sessions.keys()]).toEqual([1]);
  });

  it('names the address when the receive port cannot be bound', async () => {
    const first = await open('singleHop');
    await expect(BfdUdp.open({ mode: 'singleHop', localAddress: '127.0.0.1', listenPort: first.address.port })).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${first.address.port}`),
    );
  });
});
