import { describe, expect, it } from '@jest/globals';
import { answerCell, frrRouteFor, renderReport, renderTable, reportJson, routeCell, v4Contains, type Report, type Row } from './table.js';

const ok = (body: string): Row['answer'] => ({ ok: true, status: 200, body, code: 'OK', ms: 3 });

const ROWS: Row[] = [
  { service: 'ingress', hostName: 'app1.sandbox.test', ip: '192.0.2.100', mode: 'L2', nodes: ['node-2'], route: { source: 'connected', prefix: '192.0.2.0/24', nextHops: [] }, answer: ok('app1@node-2') },
  { service: 'ingress', hostName: 'app2.sandbox.test', ip: '192.0.2.100', mode: 'L2', nodes: ['node-2'], route: { source: 'connected', prefix: '192.0.2.0/24', nextHops: [] }, answer: ok('app2@node-2') },
  { service: 'web', ip: '198.51.100.10', mode: 'BGP', nodes: ['node-1', 'node-2', 'node-3'], route: { source: 'bgp', prefix: '198.51.100.10/32', nextHops: ['192.0.2.11', '192.0.2.12', '192.0.2.13'], installed: true }, answer: ok('node-3') },
];

const REPORT: Report = { rows: ROWS, elapsedMs: 16_640, prefix: 'sandbox', kubeconfig: '/tmp/herald-sandbox/cluster/kubeconfig', clusterDir: '/tmp/herald-sandbox/cluster', logDir: '/tmp/herald-sandbox/logs', clientNs: 'hsb-client', timings: { clusterUp: 21.04, helmInstall: 30.5 } };

describe('the sandbox table', () => {
  it('lines up one row per request under a header, without trailing blanks', () => {
    expect(renderTable(ROWS)).toBe(
      [
        'SERVICE                      IP             MODE  ANNOUNCED BY          FRR ROUTE                                                    CLIENT GOT',
        'ingress (app1.sandbox.test)  192.0.2.100    L2    node-2                192.0.2.0/24 connected                                       200 app1@node-2',
        'ingress (app2.sandbox.test)  192.0.2.100    L2    node-2                192.0.2.0/24 connected                                       200 app2@node-2',
        'web                          198.51.100.10  BGP   node-1 node-2 node-3  198.51.100.10/32 via 192.0.2.11 192.0.2.12 192.0.2.13 (bgp)  200 node-3',
        '',
      ].join('\n'),
    );
  });

  it('shows a dash for no announcing node and no route, and the failure code for no answer', () => {
    const row: Row = { service: 'web', ip: '198.51.100.10', mode: 'BGP', nodes: [], answer: { ok: false, code: 'TIMEOUT', ms: 2000 } };
    expect(renderTable([row]).split('\n')[1]).toBe('web      198.51.100.10  BGP   -             -          TIMEOUT');
  });

  it('says when FRR learned a route but zebra did not install it', () => {
    expect(routeCell({ source: 'bgp', prefix: '198.51.100.10/32', nextHops: ['192.0.2.11'], installed: false })).toBe('198.51.100.10/32 via 192.0.2.11 (bgp, not in kernel)');
    expect(routeCell({ source: 'kernel', prefix: '198.51.100.0/24', nextHops: ['192.0.2.1'] })).toBe('198.51.100.0/24 via 192.0.2.1 (kernel)');
    expect(routeCell(undefined)).toBe('-');
  });

  it('shows an HTTP error status with its code', () => {
    expect(answerCell({ ok: false, status: 404, code: 'OK', ms: 1 })).toBe('404 OK');
    expect(answerCell({ ok: false, code: 'ECONNREFUSED', ms: 1 })).toBe('ECONNREFUSED');
  });

  it('ends with the time it took and how to try it by name, and how to stop it', () => {
    const text = renderReport(REPORT);
    expect(text.startsWith(renderTable(ROWS))).toBe(true);
    expect(text).toContain('ip netns exec hsb-client curl -s --resolve app1.sandbox.test:80:192.0.2.100 http://app1.sandbox.test/');
    expect(text).toContain('npm run cluster -- kubectl --dir /tmp/herald-sandbox/cluster -- get pods,svc');
    expect(text).toContain('up in 16.6 s (clusterUp 21.0 s, helmInstall 30.5 s). Try it:');
    expect(text).toContain('npm run sandbox -- down');
  });

  it('quotes a folder with spaces in the hints', () => {
    expect(renderReport({ ...REPORT, clusterDir: "/tmp/my box's/cp" })).toContain(`--dir '/tmp/my box'\\''s/cp' --`);
  });

  it('prints the report as one line of JSON that parses back to it', () => {
    const line = reportJson(REPORT);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trim().includes('\n')).toBe(false);
    expect(JSON.parse(line)).toEqual(REPORT);
  });
});

describe('FRR route of a Service IP', () => {
  const kernel = [
    { prefix: '192.0.2.0/24', nextHops: [], protocol: 'kernel' },
    { prefix: '198.51.100.10/32', nextHops: ['192.0.2.11', '192.0.2.12'], protocol: 'bgp' },
  ];

  it('is the BGP /32 with its ECMP next hops, installed when the kernel has it', () => {
    const bgp = [{ prefix: '198.51.100.10/32', nextHops: ['192.0.2.11', '192.0.2.12'] }];
    expect(frrRouteFor('198.51.100.10', bgp, kernel)).toEqual({ source: 'bgp', prefix: '198.51.100.10/32', nextHops: ['192.0.2.11', '192.0.2.12'], installed: true });
    expect(frrRouteFor('198.51.100.10', bgp, [])).toMatchObject({ source: 'bgp', installed: false });
  });

  it('is the connected LAN for an L2 IP (FRR reaches it by ARP)', () => {
    expect(frrRouteFor('192.0.2.100', [], kernel)).toEqual({ source: 'connected', prefix: '192.0.2.0/24', nextHops: [] });
  });

  it('takes the most specific kernel route, and none when nothing covers the IP', () => {
    const k = [{ prefix: '0.0.0.0/0', nextHops: ['192.0.2.1'], protocol: 'static' }, { prefix: '203.0.113.0/25', nextHops: ['192.0.2.9'], protocol: 'static' }];
    expect(frrRouteFor('203.0.113.5', [], k)).toEqual({ source: 'kernel', prefix: '203.0.113.0/25', nextHops: ['192.0.2.9'] });
    expect(frrRouteFor('203.0.113.5', [], [])).toBeUndefined();
  });
});

describe('v4Contains', () => {
  it.each([
    ['192.0.2.0/24', '192.0.2.255', true],
    ['192.0.2.0/24', '192.0.3.0', false],
    ['0.0.0.0/0', '255.255.255.255', true],
    ['198.51.100.10/32', '198.51.100.10', true],
    ['198.51.100.10/32', '198.51.100.11', false],
    ['10.0.0.0/33', '10.0.0.1', false],
    ['2001:db8::/64', '2001:db8::1', false],
    ['192.0.2.0/24', '192.0.2.256', false],
  ])('%s holds %s: %s', (prefix, ip, want) => {
    expect(v4Contains(prefix, ip)).toBe(want);
  });
});
