import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ImagesError } from './errors.js';

/** What `node e2e/images/dist/cli.js` was asked to do. */
export type Command =
  | { readonly cmd: 'build'; readonly tag: string; readonly only: readonly Part[]; readonly caFile: string | null | undefined; readonly context: string | undefined }
  | { readonly cmd: 'size'; readonly image: string }
  | { readonly cmd: 'export'; readonly image: string; readonly file: string; readonly format: 'docker-archive' | 'oci-archive' }
  | { readonly cmd: 'push'; readonly image: string; readonly registry: string }
  | { readonly cmd: 'help' };

/** What `build` can build: the stand-in bases, Herald's images (which need the stand-ins), the test images. */
export const PARTS = ['standins', 'herald', 'test'] as const;
export type Part = (typeof PARTS)[number];

export const USAGE = `usage: node e2e/images/dist/cli.js COMMAND
  build [--tag T] [--only standins,herald,test] [--ca-file FILE | --no-ca] [--context DIR]
        builds into buildah's local store and prints a JSON summary (sizes, seconds):
        localhost/herald/{controller,speaker}:T (default tag dev) from the root Dockerfile
        on local stand-ins of its base images, and the test images
        (localhost/herald/test-backend, localhost/herald/test-nginx); --context builds
        another checkout's Dockerfile and sources (default: this repository)
  size IMAGE                      uncompressed size in bytes
  export IMAGE FILE [--format docker-archive|oci-archive]
                                  an archive that ctr images import / docker load take
  push IMAGE HOST:PORT            to a registry over plain HTTP; prints the pushed reference
`;

const tagSchema = z.string().regex(/^[\w][\w.-]{0,127}$/, 'letters, digits, _ . - only, at most 128');
const onlySchema = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p !== ''))
  .pipe(z.array(z.enum(PARTS)).min(1));

function usage(message: string): never {
  throw new ImagesError('Usage', `${message}\n${USAGE}`);
}

function parsed<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) usage(`${what}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}

/** Parses the CLI's arguments (after `node cli.js`); a bad line throws ImagesError('Usage'). */
export function parseCli(argv: readonly string[]): Command {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        tag: { type: 'string' },
        only: { type: 'string' },
        'ca-file': { type: 'string' },
        'no-ca': { type: 'boolean' },
        context: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  const [cmd, ...rest] = positionals;
  if (values['help'] || cmd === 'help' || cmd === undefined) return { cmd: 'help' };
  const allowed: Record<string, readonly string[]> = { build: ['tag', 'only', 'ca-file', 'no-ca', 'context'], size: [], export: ['format'], push: [] };
  const allowedHere = allowed[cmd];
  if (allowedHere === undefined) return usage(`unknown command ${JSON.stringify(cmd)}`);
  const stray = Object.keys(values).filter((k) => values[k] !== undefined && !allowedHere.includes(k));
  if (stray.length > 0) usage(`${cmd} takes no --${stray.join(', --')}`);
  const arity: Record<string, number> = { build: 0, size: 1, export: 2, push: 2 };
  if (rest.length !== arity[cmd]) usage(`${cmd} takes ${arity[cmd]} argument(s), got ${rest.length}`);
  switch (cmd) {
    case 'build':
      return buildCommand(values);
    case 'size':
      return { cmd, image: rest[0] ?? '' };
    case 'export':
      return { cmd, image: rest[0] ?? '', file: rest[1] ?? '', format: parsed(z.enum(['docker-archive', 'oci-archive']), values['format'] ?? 'docker-archive', '--format') };
    default:
      return { cmd: 'push', image: rest[0] ?? '', registry: rest[1] ?? '' };
  }
}

function buildCommand(values: Record<string, string | boolean | undefined>): Command {
  if (values['ca-file'] !== undefined && values['no-ca']) usage('--ca-file and --no-ca exclude each other');
  return {
    cmd: 'build',
    tag: parsed(tagSchema, values['tag'] ?? 'dev', '--tag'),
    only: values['only'] === undefined ? PARTS : parsed(onlySchema, values['only'], '--only'),
    caFile: values['no-ca'] ? null : (values['ca-file'] as string | undefined),
    context: values['context'] as string | undefined,
  };
}
