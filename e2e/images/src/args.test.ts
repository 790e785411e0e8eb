import { describe, expect, it } from '@jest/globals';
import { PARTS, parseCli } from './args.js';
import { ImagesError } from './errors.js';

const usageError = (argv: string[]): ImagesError => {
  try {
    parseCli(argv);
  } catch (err) {
    if (err instanceof ImagesError) return err;
    throw err;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

describe('parseCli', () => {
  it('builds everything with tag dev and the default CA file when given no option', () => {
    expect(parseCli(['build'])).toEqual({ cmd: 'build', tag: 'dev', only: PARTS, caFile: undefined, context: undefined });
  });

  it('takes a tag, a subset of parts, and a CA file or none', () => {
    expect(parseCli(['build', '--tag', 'v1.2.3-rc.1', '--only', 'herald, test', '--ca-file', '/etc/ca.pem', '--context', '/tmp/checkout'])).toEqual({
      cmd: 'build',
      tag: 'v1.2.3-rc.1',
      only: ['herald', 'test'],
      caFile: '/etc/ca.pem',
      context: '/tmp/checkout',
    });
    expect(parseCli(['build', '--no-ca'])).toMatchObject({ caFile: null });
  });

  it.each([
    ['a tag with a slash', ['build', '--tag', 'a/b'], /--tag/],
    ['a tag longer than 128', ['build', '--tag', 'x'.repeat(129)], /--tag/],
    ['an unknown part', ['build', '--only', 'herald,docs'], /--only/],
    ['an empty part list', ['build', '--only', ','], /--only/],
    ['both CA options', ['build', '--no-ca', '--ca-file', 'f'], /exclude each other/],
    ['an option of another command', ['size', 'img', '--tag', 'x'], /size takes no --tag/],
    ['an unknown option', ['build', '--push'], /Unknown option/],
    ['an unknown command', ['deploy'], /unknown command "deploy"/],
    ['a missing argument', ['push', 'localhost/herald/controller:dev'], /push takes 2 argument/],
    ['an extra argument', ['size', 'a', 'b'], /size takes 1 argument/],
    ['an unknown archive format', ['export', 'img', '/tmp/x.tar', '--format', 'zip'], /--format/],
  ])('refuses %s, with the usage', (_, argv, message) => {
    const err = usageError(argv);
    expect(err.code).toBe('Usage');
    expect(err.message).toMatch(message);
    expect(err.message).toContain('usage: node e2e/images/dist/cli.js');
  });

  it('reads size, export and push', () => {
    expect(parseCli(['size', 'localhost/herald/speaker:dev'])).toEqual({ cmd: 'size', image: 'localhost/herald/speaker:dev' });
    expect(parseCli(['export', 'localhost/herald/speaker:dev', '/tmp/s.tar'])).toEqual({ cmd: 'export', image: 'localhost/herald/speaker:dev', file: '/tmp/s.tar', format: 'docker-archive' });
    expect(parseCli(['export', 'i', '/tmp/s.tar', '--format', 'oci-archive'])).toMatchObject({ format: 'oci-archive' });
    expect(parseCli(['push', 'localhost/herald/speaker:dev', '127.0.0.1:5000'])).toEqual({ cmd: 'push', image: 'localhost/herald/speaker:dev', registry: '127.0.0.1:5000' });
  });

  it('prints help for no command, help, or -h', () => {
    for (const argv of [[], ['help'], ['build', '-h']]) expect(parseCli(argv)).toEqual({ cmd: 'help' });
  });
});
