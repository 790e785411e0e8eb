import { describe, expect, it } from '@jest/globals';
import { pushDestination } from './push.js';

describe('pushDestination', () => {
  it('keeps the repository path and tag, dropping the local store prefix', () => {
    expect(pushDestination('localhost/herald/controller:dev', '127.0.0.1:5000')).toBe('docker://127.0.0.1:5000/herald/controller:dev');
    expect(pushDestination('localhost/herald/test-backend:0123abcd', 'registry.test:30500')).toBe('docker://registry.test:30500/herald/test-backend:0123abcd');
  });

  it('names :latest when the image has no tag, as docker does', () => {
    expect(pushDestination('localhost/herald/test-nginx', '[::1]:5000')).toBe('docker://[::1]:5000/herald/test-nginx:latest');
  });

  it('keeps a digest reference as it is', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(pushDestination(`localhost/herald/speaker@${digest}`, '10.0.0.1:5000')).toBe(`docker://10.0.0.1:5000/herald/speaker@${digest}`);
  });

  it.each([
    ['a registry without a port', 'localhost/herald/controller:dev', '127.0.0.1', /expected HOST:PORT/],
    ['a registry with a scheme', 'localhost/herald/controller:dev', 'http://127.0.0.1:5000', /expected HOST:PORT/],
    ['a port out of range', 'localhost/herald/controller:dev', '127.0.0.1:70000', /out of range/],
    ['an upper-case repository', 'localhost/Herald/controller:dev', '127.0.0.1:5000', /not a repository reference/],
    ['an empty image', '', '127.0.0.1:5000', /not a repository reference/],
  ])('refuses %s', (_, image, registry, message) => {
    expect(() => pushDestination(image, registry)).toThrow(message);
  });
});
