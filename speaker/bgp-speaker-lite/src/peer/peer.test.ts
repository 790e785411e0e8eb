import { afterEach, describe, expect, it } from '@jest/globals';
import * as net from 'node:net';
import { decodeMessage } from '../codec/decode.js';
import { encodeMessage } from '../codec/encode.js';
import { MessageFramer } from '../codec/framer.js';
import { isEndOfRib } from '../codec/pack.js';
import { formatPrefix } from '../codec/prefix.js';
import type { BgpMessage, OpenMessage } from '../codec/types.js';
import * as fsm from '../fsm/index.js';
import { BgpPeer, toFsmOpen, toWireOpen } from './peer.js';

const CTX = { fourOctetAs: true, extendedMessages: false };

describe('OPEN mapping between the state machine and the codec', () => {
  it('carries a 4-octet AS in the capability with AS_TRANS in My AS, and back', () => {
    const config = fsm.sessionConfig({ localAsn: 4_200_000_001, peerAsn: 64512, localBgpId: 0x0aff0002 });
    const open = fsm.buildOpen(config);
    const wire = toWireOpen(open);
    expect(wire).toMatchObject({ asn: 4_200_000_001, bgpId: '10.255.0.2', capabilities: { fourOctetAs: true, routeRefresh: true } });
    const decoded = decodeMessage(encodeMessage(wire, CTX), CTX);
    expect(decoded.ok && decoded.message.type === 'open').toBe(true);
    if (!decoded.ok || decoded.message.type !== 'open') return;
    const back = toFsmOpen(decoded.message);
    expect(back).toEqual(open);
    expect(back.asn).toBe(fsm.AS_TRANS);
    expect(back.capabilities.fourOctetAsn).toBe(4_200_000_001);
    expect(back.bgpId).toBe(0x0aff0002);
    expect(fsm.checkOpen(back, fsm.sessionConfig({ localAsn: 64512, peerAsn: 4_200_000_001, localBgpId: 1 })).ok).toBe(true);
  });
});

/** A scripted BGP speaker on loopback: answers the OPEN, records what it receives. */
class ScriptedRouter {
  readonly server = net.createServer((socket) => this.#onConnection(socket));
  readonly received: BgpMessage[] = [];
  socket: net.Socket | undefined;
  #waiters: Array<() => void> = [];

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  send(message: BgpMessage): void {
    this.socket?.write(encodeMessage(message, CTX));
  }

  /** Resolves once `predicate` holds for the messages received so far. */
  async until(predicate: (messages: BgpMessage[]) => boolean): Promise<void> {
    while (!predicate(this.received)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #onConnection(socket: net.Socket): void {
    this.socket = socket;
    const framer = new MessageFramer();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) {
        if (!frame.ok) return;
        const result = decodeMessage(frame.bytes, CTX);
        if (!result.ok) return;
        this.received.push(result.message);
        if (result.message.type === 'open') {
          const open: OpenMessage = {
            type: 'open',
            asn: 64512,
            holdTime: 30,
            bgpId: '10.255.0.1',
            capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, extendedMessage: false, fourOctetAs: true, unknown: [] },
          };
          this.send(open);
          this.send({ type: 'keepalive' });
        }
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
  }
}

const updates = (messages: BgpMessage[]): Array<Extract<BgpMessage, { type: 'update' }>> =>
  messages.filter((m): m is Extract<BgpMessage, { type: 'update' }> => m.type === 'update');

describe('BgpPeer over loopback', () => {
  let router: ScriptedRouter | undefined;
  let peer: BgpPeer | undefined;

  afterEach(async () => {
    peer?.stop();
    await router?.close();
  });

  it('sends the Adj-RIB-Out and End-of-RIB on Established, re-sends it on ROUTE-REFRESH, sends only changes, and ends with Cease', async () => {
    router = new ScriptedRouter();
    const r = router;
    const port = await r.listen();
    const p = new BgpPeer({ localAsn: 4_200_000_001, peerAsn: 64512, peerAddress: '127.0.0.1', port, routerId: '10.255.0.2', holdTimeSec: 30 });
    peer = p;
    const states: string[] = [];
    p.on('state', (c) => states.push(c.to));
    p.setRoutes([
      { prefix: '198.51.100.1/32', nextHop: '192.0.2.10', communities: ['65535:0'] },
      { prefix: '198.51.100.2/32', nextHop: '192.0.2.10', communities: ['65535:0'] },
    ]);
    p.start();

    await r.until((m) => updates(m).some((u) => isEndOfRib(u) === 'ipv4'));
    expect(p.state).toBe('Established');
    expect(states).toEqual(['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    const initial = updates(r.received);
    expect(initial).toHaveLength(2);
    expect(initial[0]?.nlri.map(formatPrefix)).toEqual(['198.51.100.1/32', '198.51.100.2/32']);
    expect(initial[0]?.attributes.asPath).toEqual([{ type: 'sequence', asns: [4_200_000_001] }]);

    r.send({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
    await r.until((m) => updates(m).length === 3);
    expect(updates(r.received)[2]?.nlri).toHaveLength(2);

    p.setRoutes([
      { prefix: '198.51.100.2/32', nextHop: '192.0.2.10', communities: ['65535:0'] },
      { prefix: '198.51.100.3/32', nextHop: '192.0.2.10', communities: ['65535:0'] },
    ]);
    await r.until((m) => updates(m).length === 4);
    const change = updates(r.received)[3];
    expect(change?.nlri.map(formatPrefix)).toEqual(['198.51.100.3/32']);
    expect(change?.withdrawn.map(formatPrefix)).toEqual(['198.51.100.1/32']);
    expect(p.counters).toMatchObject({ updatesSent: 4, prefixesAdvertised: 5, prefixesWithdrawn: 1, routeRefreshesReceived: 1 });

    p.stop('maintenance');
    await r.until((m) => m.some((x) => x.type === 'notification'));
    expect(r.received.find((x) => x.type === 'notification')).toMatchObject({ code: 6, subcode: 2, shutdownCommunication: 'maintenance' });
    expect(p.state).toBe('Idle');
  });
});
