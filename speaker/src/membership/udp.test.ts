import { afterEach, describe, expect, it } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { encode } from './codec.js';
import { startUdpMembership, type UdpMembership } from './udp.js';

const key = Buffer.from('udp-test-key-0123456789abcdef0123');
const started: UdpMembership[] = [];

async function member(name: string): Promise<UdpMembership> {
  const m = await startUdpMembership({ name, address: '127.0.0.1', port: 0, keys: [key] });
  started.push(m);
  return m;
}

const until = async (cond: () => boolean, ms: number): Promise<number> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
};

afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.close()));
});

describe('UDP membership driver (127.0.0.1)', () => {
  it('converges, then declares a member whose socket closed dead within the bound', async () => {
    const [a, b, c] = [await member('a'), await member('b'), await member('c')];
    a.swim.start();
    b.swim.join([a.endpoint]);
    c.swim.join([a.endpoint]);
    const allAlive = (m: UdpMembership): boolean => m.swim.members().filter((x) => x.state === 'alive').length === 3;
    await until(() => [a, b, c].every(allAlive), 3000);
    await c.close();
    // Defaults: a 3-member cycle (2 rounds) + round + 600 ms suspicion + a round, plus slack for CI.
    const took = await until(() => a.swim.member('c')?.state === 'dead' && b.swim.member('c')?.state === 'dead', 2000);
    expect(took).toBeLessThan(1500);
  });

  it('drops and counts a datagram signed with the wrong key', async () => {
    const a = await member('a');
    a.swim.start();
    const s = createSocket('udp4');
    const bytes = encode({ type: 'alive', seq: 1, from: 'mallory', syncRequest: true, updates: [] }, Buffer.from('wrong-key'));
    await new Promise<void>((resolve, reject) => s.send(bytes, a.endpoint.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    s.close();
    await until(() => a.swim.counters.dropped.badTag === 1, 1000);
    expect(a.swim.members().map((m) => m.name)).toEqual(['a']);
  });

  it('is seen as left by the others after a graceful leave', async () => {
    const [a, b] = [await member('a'), await member('b')];
    a.swim.start();
    b.swim.join([a.endpoint]);
    await until(() => a.swim.member('b')?.state === 'alive' && b.swim.member('a')?.state === 'alive', 2000);
    await b.leave();
    await until(() => a.swim.member('b')?.state === 'left', 500);
  });
});
