import { describe, expect, it } from '@jest/globals';
import { nginxConfig } from './nginx.js';

const ROUTES = [
  { hostName: 'app1.sandbox.test', upstream: { ip: '10.98.0.11', port: 80 } },
  { hostName: 'app2.sandbox.test', upstream: { ip: '10.98.0.12', port: 80 } },
];

describe('nginx ingress configuration', () => {
  const conf = nginxConfig({ listenPort: 80, routes: ROUTES });
  const servers = conf.split(/^server \{/m).slice(1);

  it('routes each host name to its own Service ClusterIP, passing Host and X-Forwarded-For on', () => {
    expect(servers).toHaveLength(3);
    expect(servers[1]).toContain('server_name app1.sandbox.test;');
    expect(servers[1]).toContain('proxy_pass http://10.98.0.11:80;');
    expect(servers[2]).toContain('server_name app2.sandbox.test;');
    expect(servers[2]).toContain('proxy_pass http://10.98.0.12:80;');
    for (const s of servers.slice(1)) {
      expect(s).toContain('listen 80;');
      expect(s).toContain('proxy_set_header Host $host;');
      expect(s).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    }
  });

  it('answers 404 for any other host name from the default server', () => {
    const def = servers[0] ?? '';
    expect(def).toContain('listen 80 default_server;');
    expect(def).toContain('return 404 "no route for host $host\\n";');
    expect(def).not.toContain('proxy_pass');
  });

  it('holds only server blocks (Debian\'s nginx.conf includes conf.d inside http)', () => {
    expect(conf).not.toMatch(/^\s*(http|events|user|pid|worker_processes)\b/m);
  });

  it.each([
    ['a host name that would end the directive', { routes: [{ hostName: 'app1.test; include /etc/passwd', upstream: { ip: '10.0.0.1', port: 80 } }] }, /not a lower-case host name/],
    ['an upper-case host name', { routes: [{ hostName: 'App1.test', upstream: { ip: '10.0.0.1', port: 80 } }] }, /not a lower-case host name/],
    ['a host name twice', { routes: [ROUTES[0], ROUTES[0]] }, /given twice/],
    ['no routes', { routes: [] }, /no routes/],
    ['an upstream that is a name (no DNS here)', { routes: [{ hostName: 'a.test', upstream: { ip: 'app1.default.svc', port: 80 } }] }, /not an IPv4 address/],
    ['an upstream port out of range', { routes: [{ hostName: 'a.test', upstream: { ip: '10.0.0.1', port: 0 } }] }, /not a TCP port/],
    ['a listen port out of range', { listenPort: 70000 }, /not a TCP port/],
  ])('refuses %s', (_what, patch, error) => {
    expect(() => nginxConfig({ listenPort: 80, routes: ROUTES, ...patch } as Parameters<typeof nginxConfig>[0])).toThrow(error);
  });
});
