import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeClock } from './clock.js';
import { LineBatcher } from './log-sink.js';

function setup(opts: { delayMs?: number; maxBytes?: number; fail?: () => boolean } = {}): { clock: FakeClock; b: LineBatcher; writes: string[] } {
  const clock = new FakeClock();
  const writes: string[] = [];
  const b = new LineBatcher({
    clock,
    ...opts,
    write: (chunk) => {
      if (opts.fail?.()) throw new Error('EPIPE');
      writes.push(chunk);
    },
  });
  return { clock, b, writes };
}

describe('LineBatcher', () => {
  it('writes the lines logged within the delay as one chunk, in order, when the delay is over', () => {
    const { clock, b, writes } = setup({ delayMs: 50 });
    b.write('a\n');
    clock.advance(30);
    b.write('b\n');
    b.write('c\n');
    expect(writes).toEqual([]);
    clock.advance(19);
    expect(writes).toEqual([]);
    clock.advance(1);
    expect(writes).toEqual(['a\nb\nc\n']);
    expect(b.pending).toBe(0);
    // A quiet spell, then one line: out within the delay, on its own.
    clock.advance(1_000);
    b.write('d\n');
    clock.advance(50);
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once when a batch reaches its size limit', () => {
    const { clock, b, writes } = setup({ delayMs: 50, maxBytes: 10 });
    b.write('12345\n');
    b.write('67890\n');
    expect(writes).toEqual(['12345\n67890\n']);
    b.write('x\n');
    clock.advance(50);
    expect(writes).toEqual(['12345\n67890\n', 'x\n']);
  });

  it('drops a batch it cannot write instead of throwing, and goes on', () => {
    let broken = true;
    const { clock, b, writes } = setup({ fail: () => broken });
    b.write('lost\n');
    expect(() => clock.advance(50)).not.toThrow();
    broken = false;
    b.write('kept\n');
    b.flush();
    expect(writes).toEqual(['kept\n']);
  });
});

describe('createLogger on stdout', () => {
  const core = fileURLToPath(new URL('../../dist/core/index.js', import.meta.url));
  const run = (body: string): { stdout: string; status: number | null } => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(core)};\n${body}`], { encoding: 'utf8', timeout: 20_000 });
    return { stdout: r.stdout, status: r.status };
  };

  it('loses no line when the process exits right after logging (process.exit and an uncaught error)', () => {
    for (const end of ['process.exit(3);', "throw new Error('boom');"]) {
      const r = run(`const log = createLogger({ level: 'info', name: 't' });\nfor (let i = 0; i < 5000; i++) log.info({ i }, 'line');\n${end}`);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { i: number });
      expect(lines).toHaveLength(5000);
      expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      expect(r.status).not.toBe(0);
    }
  });

  it('writes a lone line while the process lives on, not only at exit', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(core)};\ncreateLogger({ level: 'info', name: 't' }).info('hello');\nsetTimeout(() => process.exit(0), 1500);`]);
    let firstLineAt = Number.NaN;
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (Number.isNaN(firstLineAt) && text.includes('\n')) firstLineAt = performance.now();
    });
    const exitedAt = await new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now())));
    expect((JSON.parse(text.trim()) as { msg: string }).msg).toBe('hello');
    // Written by the batch timer, long before the exit flush would have.
    expect(exitedAt - firstLineAt).toBeGreaterThan(700);
  });
});
