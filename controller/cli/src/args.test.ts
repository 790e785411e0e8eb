import { describe, expect, it } from '@jest/globals';
import { helpText, parseArgs } from './args.js';
import { UsageError } from './errors.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof parseArgs> => parseArgs(argv, env);

describe('parseArgs', () => {
  it('defaults to herald-system, table output, no class, a 10 s request deadline', () => {
    expect(parse(['status'])).toEqual({ name: 'status', opts: { namespace: 'herald-system', output: 'table', timeoutMs: 10_000 } });
  });

  it.each([
    [['status', '-n', 'lb', '-o', 'json'], { namespace: 'lb', output: 'json' }],
    [['-nlb', 'status', '-oyaml'], { namespace: 'lb', output: 'yaml' }],
    [['status', '--namespace=lb', '--output=json'], { namespace: 'lb', output: 'json' }],
    [['status', '-n=lb'], { namespace: 'lb' }],
    [['status', '--kubeconfig', '/k', '--context', 'c', '--lb-class', 'example.com/lb', '--request-timeout', '500ms'], { kubeconfig: '/k', context: 'c', lbClass: 'example.com/lb', timeoutMs: 500 }],
    [['status', '--request-timeout', '2m'], { timeoutMs: 120_000 }],
    [['status', '--request-timeout', '3'], { timeoutMs: 3_000 }],
  ])('reads flags before and after the command: %j', (argv, want) => {
    const c = parse(argv);
    expect(c.name).toBe('status');
    expect(c.name === 'status' && c.opts).toMatchObject(want);
  });

  it('takes the namespace from HERALD_NAMESPACE unless -n is given', () => {
    expect(parse(['status'], { HERALD_NAMESPACE: 'lb' })).toMatchObject({ opts: { namespace: 'lb' } });
    expect(parse(['status', '-n', 'x'], { HERALD_NAMESPACE: 'lb' })).toMatchObject({ opts: { namespace: 'x' } });
  });

  it('parses explain NAMESPACE/SERVICE', () => {
    expect(parse(['explain', 'default/web'])).toMatchObject({ name: 'explain', service: { namespace: 'default', name: 'web' } });
  });

  it('parses both import-metallb sources; output defaults to yaml', () => {
    expect(parse(['import-metallb', '-f', '-'])).toMatchObject({ name: 'import-metallb', source: { file: '-' }, opts: { output: 'yaml' } });
    expect(parse(['import-metallb', '--from-cluster', '-o', 'json'])).toMatchObject({ source: { fromCluster: true }, opts: { output: 'json' } });
  });

  it.each([
    [[], 'no command given'],
    [['bogus'], 'unknown command "bogus"'],
    [['status', '--bogus'], 'unknown flag --bogus'],
    [['status', '-x'], 'unknown flag -x'],
    [['status', '-n'], 'flag -n needs a value'],
    [['status', '-o', 'wide'], '--output: expected table, json or yaml (got "wide")'],
    [['status', '-n', 'Not_A_Label'], '--namespace: must be a DNS-1123 label'],
    [['status', '--lb-class', 'a b'], '--lb-class: must be a label-style name'],
    [['status', '--request-timeout', 'soon'], '--request-timeout: expected a duration'],
    [['status', 'extra'], 'status takes no arguments'],
    [['status', '-f', 'x.yaml'], 'flag --filename applies only to import-metallb'],
    [['explain'], 'explain needs NAMESPACE/SERVICE'],
    [['explain', 'web'], 'expected NAMESPACE/SERVICE, got "web"'],
    [['explain', 'a/b/c'], 'expected NAMESPACE/SERVICE'],
    [['explain', 'default/Web'], 'name of NAMESPACE/SERVICE: must be a DNS-1123 label'],
    [['import-metallb'], 'needs exactly one of -f FILE (- for stdin) and --from-cluster'],
    [['import-metallb', '-f', 'x', '--from-cluster'], 'needs exactly one of'],
    [['import-metallb', '-f', 'x', '-o', 'table'], 'import-metallb writes yaml or json'],
    [['status', '--from-cluster=maybe'], 'takes no value other than true or false'],
    [['help', 'nope'], 'unknown command "nope"'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('answers --help and help COMMAND', () => {
    expect(parse(['--help'])).toEqual({ name: 'help' });
    expect(parse(['help'])).toEqual({ name: 'help' });
    expect(parse(['explain', '-h'])).toEqual({ name: 'help', topic: 'explain' });
    expect(parse(['help', 'import-metallb'])).toEqual({ name: 'help', topic: 'import-metallb' });
  });
});

describe('helpText', () => {
  it('documents every exit code in the main help and each command', () => {
    const main = helpText();
    for (const code of ['0  ', '1  ', '2  ', '3  ', '4  ']) expect(main).toContain(`\n  ${code}`);
    for (const topic of ['status', 'explain', 'import-metallb'] as const) expect(helpText(topic)).toMatch(/Exit codes: 0 .*; 1 /s);
  });
});
