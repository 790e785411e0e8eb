import { describe, expect, it } from '@jest/globals';
import { budArgs, defaultCaFile, heraldImageName } from './herald.js';

const bases = { builder: 'localhost/b:1', controller: 'localhost/r:nonroot-1', speaker: 'localhost/r:1' };

describe('budArgs', () => {
  it('builds one target offline, on the given bases, with layer caching', () => {
    const args = budArgs({ target: 'speaker', image: heraldImageName('speaker', 'dev'), bases, caFile: null, context: '/work/main/' });
    expect(args).toEqual(expect.arrayContaining(['--pull=never', '--network=host', '--layers']));
    const value = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
    expect(value('--target')).toEqual(['speaker']);
    expect(value('--tag')).toEqual(['localhost/herald/speaker:dev']);
    expect(value('--build-arg')).toEqual(['BUILDER_BASE=localhost/b:1', 'CONTROLLER_BASE=localhost/r:nonroot-1', 'SPEAKER_BASE=localhost/r:1']);
    expect(value('--secret')).toEqual([]);
    expect(value('--file')).toEqual(['/work/main/Dockerfile']);
    expect(args.at(-1)).toBe('/work/main/');
  });

  it('hands the CA bundle over as the optional npm-ca secret, never as a build argument', () => {
    const args = budArgs({ target: 'controller', image: 'x', bases, caFile: '/etc/ssl/certs/ca-certificates.crt', context: '/c' });
    expect(args).toEqual(expect.arrayContaining(['--secret', 'id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt']));
    expect(args.filter((a) => a.includes('ca-certificates')).length).toBe(1);
  });
});

describe('defaultCaFile', () => {
  it("prefers npm's cafile, then Node's extra CA file, then Debian's bundle, skipping files that do not exist", () => {
    const all = (): boolean => true;
    expect(defaultCaFile({ npm_config_cafile: '/npm.pem', NODE_EXTRA_CA_CERTS: '/node.pem' }, all)).toBe('/npm.pem');
    expect(defaultCaFile({ NODE_EXTRA_CA_CERTS: '/node.pem' }, all)).toBe('/node.pem');
    expect(defaultCaFile({ npm_config_cafile: '/gone.pem' }, (p) => p !== '/gone.pem')).toBe('/etc/ssl/certs/ca-certificates.crt');
    expect(defaultCaFile({}, () => false)).toBeNull();
  });
});
