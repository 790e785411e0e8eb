import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatIP, isAddressParseError, parseIP, parsePoolAddress, type Family, type IP, type IPRange } from '@herald/shared/ip';
import { Allocator } from './allocator.js';
import { canShare } from './sharing.js';
import type { Decision, PoolModel, ServiceRequest } from './types.js';

function ranges(...entries: string[]): IPRange[] {
  return entries.map((e) => {
    const r = parsePoolAddress(e);
    if (isAddressParseError(r)) throw new Error(r.message);
    return r;
  });
}

function pool(name: string, addrs: string[], extra: Partial<PoolModel> = {}): PoolModel {
  return { name, ranges: ranges(...addrs), autoAssign: true, avoidBuggyIPs: false, ...extra };
}

function ip(s: string): IP {
  const v = parseIP(s);
  if (!v) throw new Error(s);
  return v;
}

function svc(key: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
  const [namespace = 'default'] = key.split('/');
  return {
    key,
    namespace,
    labels: {},
    namespaceLabels: {},
    families: [4],
    policy: 'SingleStack',
    requestedIPs: [],
    sharing: { ports: ['TCP/80'], local: false, selector: '{}' },
    ...extra,
  };
}

const ips = (d: Decision): string[] => (d.ok ? d.assignment.ips.map(formatIP) : []);
const poolOf = (d: Decision): string | undefined => (d.ok ? d.assignment.pool : undefined);

describe('choosing an address', () => {
  it('hands out the lowest free address in the order the entries are listed', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.1.0/30', '10.0.0.10-10.0.0.11'])]);
    const got = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ips(a.assign(svc(`ns/${n}`)))[0]);
    expect(got).toEqual(['10.0.1.0', '10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.0.10', '10.0.0.11']);
    const full = a.assign(svc('ns/g'));
    expect(full).toMatchObject({ ok: false, reason: 'PoolExhausted' });
  });

  it('reuses a released address before higher ones', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/29'])]);
    for (const n of ['a', 'b', 'c']) a.assign(svc(`ns/${n}`));
    a.release('ns/a');
    expect(ips(a.assign(svc('ns/d')))).toEqual(['10.0.0.0']);
  });

  it('never hands out .0 or .255 from a pool with avoidBuggyIPs', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.254-10.0.1.1'], { avoidBuggyIPs: true })]);
    expect([ips(a.assign(svc('ns/a')))[0], ips(a.assign(svc('ns/b')))[0]]).toEqual(['10.0.0.254', '10.0.1.1']);
    expect(a.assign(svc('ns/c'))).toMatchObject({ ok: false, reason: 'PoolExhausted' });
    expect(a.stats('p')?.total[4]).toBe(2n);
  });

  it('refuses a requested .0 or .255 from a pool with avoidBuggyIPs (as MetalLB does), but keeps one a Service already holds', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/23'], { avoidBuggyIPs: true })]);
    for (const addr of ['10.0.0.255', '10.0.1.0']) {
      const d = a.assign(svc('ns/a', { requestedIPs: [ip(addr)] }));
      expect(d).toMatchObject({ ok: false, reason: 'InvalidRequest' });
      expect(d.ok ? '' : d.message).toContain(`${addr} ends in .0 or .255`);
    }
    expect(ips(a.assign(svc('ns/b', { requestedIPs: [ip('10.0.0.254')] })))).toEqual(['10.0.0.254']);
    // Restored from status (held before the pool said avoidBuggyIPs): kept, not moved.
    expect(a.restore(svc('ns/c', { requestedIPs: [ip('10.0.1.255')] }), [ip('10.0.1.255')])).toEqual({ ok: true });
    expect(ips(a.assign(svc('ns/c', { requestedIPs: [ip('10.0.1.255')] })))).toEqual(['10.0.1.255']);
  });

  it('uses autoAssign:false pools only when asked for by name or by IP', () => {
    const a = new Allocator();
    a.setPools([pool('manual', ['10.1.0.0/24'], { autoAssign: false })]);
    const d = a.assign(svc('ns/a'));
    expect(d).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
    expect(d.considered).toEqual([expect.objectContaining({ pool: 'manual', verdict: 'autoAssignOff' })]);
    expect(poolOf(a.assign(svc('ns/b', { pool: 'manual' })))).toBe('manual');
    expect(ips(a.assign(svc('ns/c', { requestedIPs: [ip('10.1.0.7')] })))).toEqual(['10.1.0.7']);
  });

  it('prefers pools whose serviceAllocation admits the Service, by ascending priority, unset last, then plain pools, ties by name', () => {
    const a = new Allocator();
    const alloc = (priority?: number) => ({ allocation: { ...(priority === undefined ? {} : { priority }), namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [] } });
    a.setPools([
      pool('a-plain', ['10.0.0.0/32']),
      pool('b-unset', ['10.0.1.0/32'], alloc()),
      pool('c-prio20', ['10.0.2.0/32'], alloc(20)),
      pool('d-prio10', ['10.0.3.0/32'], alloc(10)),
      pool('e-prio10', ['10.0.4.0/32'], alloc(10)),
    ]);
    const order = ['s1', 's2', 's3', 's4', 's5'].map((n) => poolOf(a.assign(svc(`team/${n}`))));
    expect(order).toEqual(['d-prio10', 'e-prio10', 'c-prio20', 'b-unset', 'a-plain']);
    // A Service from another namespace only sees the plain pool.
    const other = a.assign(svc('other/x'));
    expect(other).toMatchObject({ ok: false, reason: 'PoolExhausted' });
    expect(other.considered.filter((c) => c.verdict === 'notAdmitted').map((c) => c.pool)).toEqual(['b-unset', 'c-prio20', 'd-prio10', 'e-prio10']);
  });

  it('requires every serviceAllocation field that is set to match', () => {
    const a = new Allocator();
    a.setPools([
      pool('p', ['10.0.0.0/24'], {
        allocation: {
          namespaces: [],
          namespaceSelectors: [{ matchLabels: { env: 'prod' } }],
          serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }],
        },
      }),
    ]);
    expect(a.assign(svc('ns/a', { namespaceLabels: { env: 'prod' }, labels: { tier: 'web' } })).ok).toBe(true);
    const d = a.assign(svc('ns/b', { namespaceLabels: { env: 'prod' }, labels: { tier: 'db' } }));
    expect(d).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
    expect(!d.ok && d.message).toContain('serviceSelectors');
  });

  it('says when no pool exists at all', () => {
    const d = new Allocator().assign(svc('ns/a'));
    expect(d).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
    expect(!d.ok && d.message).toContain('no IPAddressPool exists');
  });

  it('names a requested pool that does not exist', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    const d = a.assign(svc('ns/a', { pool: 'nope' }));
    expect(!d.ok && d.message).toBe('the requested pool nope does not exist');
  });
});

describe('requested IPs', () => {
  const a = new Allocator();
  a.setPools([pool('p', ['10.0.0.0/24', '2001:db8::/120']), pool('q', ['10.9.0.0/24'])]);

  it('gives the requested IP when a pool contains it', () => {
    const d = a.assign(svc('ns/r1', { requestedIPs: [ip('10.0.0.50')] }));
    expect(ips(d)).toEqual(['10.0.0.50']);
    expect(poolOf(d)).toBe('p');
  });

  it('refuses an IP that no pool contains', () => {
    expect(a.assign(svc('ns/r2', { requestedIPs: [ip('192.0.2.1')] }))).toMatchObject({ ok: false, reason: 'NoMatchingPool', message: 'no pool contains the requested IP 192.0.2.1' });
  });

  it('refuses an IP held by a Service it may not share with, naming the holder', () => {
    const d = a.assign(svc('ns/r3', { requestedIPs: [ip('10.0.0.50')] }));
    expect(d).toMatchObject({ ok: false, reason: 'RequestedIPInUse' });
    expect(!d.ok && d.message).toContain('ns/r1');
  });

  it('refuses an IP outside the requested pool', () => {
    expect(a.assign(svc('ns/r4', { requestedIPs: [ip('10.9.0.1')], pool: 'p' }))).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
  });

  it('refuses an IP of a family the Service does not have', () => {
    expect(a.assign(svc('ns/r5', { requestedIPs: [ip('2001:db8::5')] }))).toMatchObject({ ok: false, reason: 'InvalidRequest' });
  });

  it('gives a dual-stack Service the pair it requests', () => {
    const d = a.assign(svc('ns/r6', { families: [4, 6], policy: 'RequireDualStack', requestedIPs: [ip('10.0.0.60'), ip('2001:db8::60')] }));
    expect(ips(d)).toEqual(['10.0.0.60', '2001:db8::60']);
  });

  it('lets the first of two Services racing for one IP win and refuses the second', () => {
    const b = new Allocator();
    b.setPools([pool('p', ['10.0.0.0/24'])]);
    const first = b.assign(svc('ns/x', { requestedIPs: [ip('10.0.0.9')] }));
    const second = b.assign(svc('ns/y', { requestedIPs: [ip('10.0.0.9')] }));
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, reason: 'RequestedIPInUse' });
    expect(b.holdersOf(ip('10.0.0.9'))).toEqual(['ns/x']);
  });
});

describe('sharing an IP', () => {
  const shared = (key: string, port: string, extra: Partial<ServiceRequest['sharing']> = {}) => ({ sharing: { key, ports: [port], local: false, selector: '{"app":"a"}', ...extra } });

  it('puts a Service with a sharing key on an IP it can share before a free one', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    a.assign(svc('ns/plain'));
    const dns = a.assign(svc('ns/dns-tcp', shared('dns', 'TCP/53')));
    const udp = a.assign(svc('ns/dns-udp', shared('dns', 'UDP/53')));
    expect(ips(dns)).toEqual(['10.0.0.1']);
    expect(ips(udp)).toEqual(['10.0.0.1']);
    expect(a.holdersOf(ip('10.0.0.1'))).toEqual(['ns/dns-tcp', 'ns/dns-udp']);
  });

  it('gives a free IP instead when the ports collide', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    a.assign(svc('ns/a', shared('k', 'TCP/80')));
    expect(ips(a.assign(svc('ns/b', shared('k', 'TCP/80'))))).toEqual(['10.0.0.1']);
  });

  it('refuses a requested shared IP when ports collide (SharingConflict) and when Local Services select different pods', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    a.assign(svc('ns/a', { ...shared('k', 'TCP/80'), requestedIPs: [ip('10.0.0.5')] }));
    const ports = a.assign(svc('ns/b', { ...shared('k', 'TCP/80'), requestedIPs: [ip('10.0.0.5')] }));
    expect(ports).toMatchObject({ ok: false, reason: 'SharingConflict' });
    expect(!ports.ok && ports.message).toContain('both use TCP/80');
    const local = a.assign(svc('ns/c', { ...shared('k', 'TCP/81', { local: true, selector: '{"app":"b"}' }), requestedIPs: [ip('10.0.0.5')] }));
    expect(local).toMatchObject({ ok: false, reason: 'SharingConflict' });
    const ok = a.assign(svc('ns/d', { ...shared('k', 'TCP/82', { local: true }), requestedIPs: [ip('10.0.0.5')] }));
    expect(ips(ok)).toEqual(['10.0.0.5']);
  });

  it('never offers an IP that no pool contains any more for sharing (found by the property test)', () => {
    const a = new Allocator();
    a.setPools([pool('a', ['10.0.0.0/28', '2001:db8::/124'])]);
    const share = (port: string) => ({ families: [6] as Family[], sharing: { key: 'k', ports: [port], local: false, selector: '{}' } });
    a.assign(svc('ns/s1', { ...share('TCP/1'), requestedIPs: [ip('2001:db8::8')] }));
    a.assign(svc('ns/s0', share('TCP/0')));
    expect(a.holdersOf(ip('2001:db8::8'))).toEqual(['ns/s0', 'ns/s1']);
    expect(a.setPools([pool('a', ['10.0.0.0/29']), pool('b', ['10.0.0.8/29', '2001:db8::/125'])])).toEqual(['ns/s0', 'ns/s1']);
    const moved = a.assign(svc('ns/s0', share('TCP/0')));
    expect(moved).toMatchObject({ ok: true, action: 'Moved', assignment: { pool: 'b', ips: [ip('2001:db8::')] } });
  });

  it('frees a shared IP only when its last holder leaves', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    a.assign(svc('ns/a', shared('k', 'TCP/1')));
    a.assign(svc('ns/b', shared('k', 'TCP/2')));
    a.release('ns/a');
    expect(a.stats('p')?.assigned[4]).toBe(1n);
    expect(ips(a.assign(svc('ns/c')))).toEqual(['10.0.0.1']);
    a.release('ns/b');
    expect(a.stats('p')?.assigned[4]).toBe(1n);
    expect(ips(a.assign(svc('ns/d')))).toEqual(['10.0.0.0']);
  });
});

describe('IP families', () => {
  const dual = (policy: ServiceRequest['policy']): Partial<ServiceRequest> => ({ families: [4, 6], policy });

  it('gives a single-stack IPv6 Service one IPv6 address', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24', '2001:db8::/64'])]);
    expect(ips(a.assign(svc('ns/a', { families: [6] })))).toEqual(['2001:db8::']);
  });

  it('gives RequireDualStack one of each from one pool, or nothing', () => {
    const a = new Allocator();
    a.setPools([pool('v4', ['10.0.0.0/24']), pool('v6', ['2001:db8::/64'])]);
    const d = a.assign(svc('ns/a', dual('RequireDualStack')));
    expect(d).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
    a.setPools([pool('v4', ['10.0.0.0/24']), pool('v6', ['2001:db8::/64']), pool('z-both', ['10.1.0.0/24', '2001:db8:1::/64'])]);
    const ok = a.assign(svc('ns/a', dual('RequireDualStack')));
    expect(poolOf(ok)).toBe('z-both');
    expect(ips(ok)).toEqual(['10.1.0.0', '2001:db8:1::']);
  });

  it('gives PreferDualStack both when one pool has both, else one of the primary family', () => {
    const a = new Allocator();
    a.setPools([pool('v4', ['10.0.0.0/24']), pool('v6', ['2001:db8::/64'])]);
    expect(ips(a.assign(svc('ns/a', dual('PreferDualStack'))))).toEqual(['10.0.0.0']);
    expect(ips(a.assign(svc('ns/b', { families: [6, 4], policy: 'PreferDualStack' })))).toEqual(['2001:db8::']);
  });
});

describe('keeping IPs', () => {
  it('keeps an assigned IP on every later reconcile', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    a.assign(svc('ns/a'));
    const again = a.assign(svc('ns/a'));
    expect(again).toMatchObject({ ok: true, action: 'Kept' });
    expect(ips(again)).toEqual(['10.0.0.0']);
  });

  it('keeps IPs when a pool grows, is renamed or is split, and moves them when it shrinks', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/30'])]);
    for (const n of ['a', 'b', 'c']) a.assign(svc(`ns/${n}`));
    expect(a.setPools([pool('p', ['10.0.0.0/24'])])).toEqual([]); // grow
    expect(a.setPools([pool('renamed', ['10.0.0.0/24'])])).toEqual([]); // rename
    expect(a.assignmentOf('ns/b')?.pool).toBe('renamed');
    expect(a.setPools([pool('low', ['10.0.0.0/31']), pool('high', ['10.0.0.2/31'])])).toEqual([]); // split
    expect(a.assignmentOf('ns/c')).toEqual({ pool: 'high', ips: [ip('10.0.0.2')] });
    expect(a.assign(svc('ns/c'))).toMatchObject({ action: 'Kept' });
    // Shrink: 10.0.0.2 leaves every pool; ns/c must move, the others stay.
    expect(a.setPools([pool('low', ['10.0.0.0/31']), pool('other', ['10.0.9.0/24'])])).toEqual(['ns/c']);
    const moved = a.assign(svc('ns/c'));
    expect(moved).toMatchObject({ ok: true, action: 'Moved' });
    expect(ips(moved)).toEqual(['10.0.9.0']);
    expect(moved.ok && moved.moveReason).toContain('no pool contains 10.0.0.2');
    expect(a.assign(svc('ns/a'))).toMatchObject({ action: 'Kept' });
  });

  it('keeps IPs that no pool contains for the orphan grace period, so a delete-then-create rename moves nothing', () => {
    let now = 1000;
    const a = new Allocator({ now: () => now, orphanGraceMs: 5000 });
    a.setPools([pool('old', ['10.0.0.0/24'])]);
    a.assign(svc('ns/a'));
    expect(a.setPools([])).toEqual(['ns/a']);
    now += 4000;
    const during = a.assign(svc('ns/a'));
    expect(during).toMatchObject({ ok: true, action: 'Kept', releaseInMs: 1000 });
    a.setPools([pool('new', ['10.0.0.0/24'])]);
    expect(a.assign(svc('ns/a'))).toEqual(expect.objectContaining({ action: 'Kept', assignment: { pool: 'new', ips: [ip('10.0.0.0')] } }));
    expect(a.assign(svc('ns/a'))).not.toHaveProperty('releaseInMs');
    // A second orphaning starts a fresh grace; once it is over, the IP goes.
    a.setPools([pool('other', ['10.9.0.0/24'])]);
    now += 5001;
    expect(a.assign(svc('ns/a'))).toMatchObject({ ok: true, action: 'Moved', assignment: { pool: 'other' } });
  });

  it('keeps IPs from a frozen (now invalid) pool but hands out nothing new from it', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    a.assign(svc('ns/a'));
    a.setPools([pool('p', ['10.0.0.0/24'], { frozen: true })], new Map([['p', 'overlaps pool q']]));
    expect(a.assign(svc('ns/a'))).toMatchObject({ action: 'Kept' });
    const d = a.assign(svc('ns/b'));
    expect(d).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
    expect(d.considered).toEqual([expect.objectContaining({ verdict: 'frozen', detail: 'invalid: overlaps pool q' })]);
  });

  it('moves the IP when the user changes what the Service asks for', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24']), pool('q', ['10.1.0.0/24'])]);
    a.assign(svc('ns/a'));
    const d = a.assign(svc('ns/a', { requestedIPs: [ip('10.1.0.8')] }));
    expect(d).toMatchObject({ ok: true, action: 'Moved', previous: { pool: 'p' } });
    expect(a.assign(svc('ns/a', { requestedIPs: [ip('10.1.0.8')] }))).toMatchObject({ action: 'Kept' });
    expect(a.assign(svc('ns/a', { pool: 'p' }))).toMatchObject({ action: 'Moved' });
  });

  it('restores assignments from status, the first claimant winning a conflict', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24'])]);
    expect(a.restore(svc('ns/old'), [ip('10.0.0.7')])).toEqual({ ok: true });
    const second = a.restore(svc('ns/new'), [ip('10.0.0.7')]);
    expect(second.ok).toBe(false);
    expect(a.restore(svc('ns/gone'), [ip('192.0.2.1')])).toEqual({ ok: false, why: 'no pool contains 192.0.2.1' });
    // A new Service never gets a restored IP.
    expect(ips(a.assign(svc('ns/x')))).toEqual(['10.0.0.0']);
    for (let i = 0; i < 6; i++) a.assign(svc(`ns/y${i}`));
    expect(ips(a.assign(svc('ns/z')))).toEqual(['10.0.0.8']);
  });
});

describe('pool statistics', () => {
  it('counts a 2^64-address IPv6 pool exactly, with memory for the used IPs only', () => {
    const a = new Allocator();
    a.setPools([pool('big', ['2001:db8:0:1::/64'])]);
    for (let i = 0; i < 1000; i++) a.assign(svc(`ns/s${i}`, { families: [6] }));
    const s = a.stats('big');
    expect(s?.total[6]).toBe(18446744073709551616n);
    expect(s?.assigned[6]).toBe(1000n);
    expect(s?.total[4]).toBe(0n);
  });

  it('counts overlapping entries of one pool once and excludes buggy IPs exactly', () => {
    const a = new Allocator();
    a.setPools([pool('p', ['10.0.0.0/24', '10.0.0.128/25', '10.0.1.0-10.0.1.9'], { avoidBuggyIPs: true })]);
    // 256 + 10 addresses; 10.0.0.0, 10.0.0.255 and 10.0.1.0 excluded.
    expect(a.stats('p')?.total[4]).toBe(263n);
  });
});

describe('invariants under random operations', () => {
  type Op = { kind: 'assign'; n: number; fam: Family; shareKey: number | undefined; port: number; req: number | undefined } | { kind: 'release'; n: number } | { kind: 'pools'; variant: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('assign' as const), n: fc.nat(30), fam: fc.constantFrom<Family>(4, 6), shareKey: fc.option(fc.nat(2), { nil: undefined }), port: fc.nat(3), req: fc.option(fc.nat(20), { nil: undefined }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), n: fc.nat(30) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('pools' as const), variant: fc.nat(2) }) },
  );
  const variants: PoolModel[][] = [
    [pool('a', ['10.0.0.0/28', '2001:db8::/124'])],
    [pool('a', ['10.0.0.0/29']), pool('b', ['10.0.0.8/29', '2001:db8::/125'])],
    [pool('c', ['10.0.0.4/30', '2001:db8::8/125'], { avoidBuggyIPs: true })],
  ];

  it('never lets two Services that may not share hold one IP, and every IP lies in its pool', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const a = new Allocator();
        a.setPools(variants[0] ?? []);
        let current = variants[0] ?? [];
        const reqs = new Map<string, ServiceRequest>();
        for (const o of ops) {
          if (o.kind === 'pools') {
            current = variants[o.variant] ?? [];
            for (const k of a.setPools(current)) {
              const r = reqs.get(k);
              if (r) a.assign(r);
            }
          } else if (o.kind === 'release') {
            a.release(`ns/s${o.n}`);
            reqs.delete(`ns/s${o.n}`);
          } else {
            const base = o.fam === 4 ? '10.0.0.' : '2001:db8::';
            const r = svc(`ns/s${o.n}`, {
              families: [o.fam],
              requestedIPs: o.req === undefined ? [] : [ip(`${base}${o.fam === 4 ? o.req : o.req.toString(16)}`)],
              sharing: { ...(o.shareKey === undefined ? {} : { key: `k${o.shareKey}` }), ports: [`TCP/${o.port}`], local: false, selector: '{}' },
            });
            reqs.set(r.key, r);
            a.assign(r);
          }
        }
        const byIP = new Map<string, string[]>();
        for (const [key, r] of reqs) {
          const got = a.assignmentOf(key);
          if (!got) continue;
          const p = current.find((x) => x.name === got.pool);
          for (const x of got.ips) {
            expect(p?.ranges.some((rg) => rg.family === x.family && x.value >= rg.first && x.value <= rg.last)).toBe(true);
            const list = byIP.get(formatIP(x)) ?? [];
            for (const other of list) expect(canShare(reqs.get(other)?.sharing ?? r.sharing, r.sharing)).toBe(true);
            byIP.set(formatIP(x), [...list, key]);
          }
        }
      }),
      { numRuns: Number(process.env["FC_RUNS"] ?? 300) },
    );
  });
});
