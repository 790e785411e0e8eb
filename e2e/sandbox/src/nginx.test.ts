import { describe, expect, it } from '@jest/globals';
import { nginxArgs, nginxConfig } from './nginx.js';

const ROUTES = [
  { hostName: 'app1.sandbox.test', backendPort: 9001 },
  { hostName: 'app2.sandbox.test', backendPort: 9002 },
];

describe('nginx configuration of a node', () => {
  const conf = nginxConfig({ dir: '/tmp/sb/nginx/node-1/', listenPort: 8000, routes: ROUTES });

  it('routes each host name to its own backend, passing Host and X-Forwarded-For on', () => {
    const servers = conf.split('    server {').slice(1);
    expect(servers).toHaveLength(3);
    expect(servers[1]).toContain('server_name app1.sandbox.test;');
    expect(servers[1]).toContain('proxy_pass http://127.0.0.1:9001;');
    expect(servers[2]).toContain('server_name app2.sandbox.test;');
    expect(servers[2]).toContain('proxy_pass http://127.0.0.1:9002;');
    for (const s of servers.slice(1)) {
      expect(s).toContain('listen 8000;');
      expect(s).toContain('proxy_set_header Host $host;');
      expect(s).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    }
  });

  it('answers 404 for any other host name from the default server', () => {
    const def = conf.split('    server {')[1] ?? '';
    expect(def).toContain('listen 8000 default_server;');
    expect(def).toContain('return 404');
    expect(def).not.toContain('proxy_pass');
  });

  it('keeps its pid file and temporary folders in its own folder, and logs errors to stderr', () => {
    expect(conf).toContain('pid /tmp/sb/nginx/node-1/nginx.pid;');
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) expect(conf).toContain(`${t}_temp_path /tmp/sb/nginx/node-1/${t};`);
    expect(conf).toContain('error_log stderr warn;');
    expect(conf).toContain('access_log off;');
    expect(conf).not.toMatch(/\bdaemon\b/);
    expect(conf).toContain('user nobody nogroup;');
  });

  it('runs in the foreground with its own prefix', () => {
    expect(nginxArgs('/tmp/sb/n/nginx.conf', '/tmp/sb/n')).toEqual(['-c', '/tmp/sb/n/nginx.conf', '-p', '/tmp/sb/n/', '-e', 'stderr', '-g', 'daemon off;']);
  });

  it.each([
    ['a host name that would end the directive', { routes: [{ hostName: 'app1.test; include /etc/passwd', backendPort: 9001 }] }, /not a lower-case host name/],
    ['an upper-case host name', { routes: [{ hostName: 'App1.test', backendPort: 9001 }] }, /not a lower-case host name/],
    ['a host name twice', { routes: [ROUTES[0], ROUTES[0]] }, /given twice/],
    ['no routes', { routes: [] }, /no routes/],
    ['a backend on the listen port', { routes: [{ hostName: 'a.test', backendPort: 8000 }] }, /is the listen port/],
    ['a port out of range', { listenPort: 70000 }, /not a TCP port/],
    ['a relative folder', { dir: 'nginx/node-1' }, /absolute path/],
    ['a folder with a space', { dir: '/tmp/my box' }, /absolute path/],
  ])('refuses %s', (_what, patch, error) => {
    expect(() => nginxConfig({ dir: '/tmp/sb', listenPort: 8000, routes: ROUTES, ...patch } as Parameters<typeof nginxConfig>[0])).toThrow(error);
  });
});
